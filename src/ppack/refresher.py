"""
The decision and its consequences: for each image pack needs, look at the
daemon and the pull log, pull what is due (one puller per image across all
ppack processes), and record each pull that succeeded.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ppack import pulllog, reference
from ppack.daemon import Engine
from ppack.messages import PpackError, Reporter
from ppack.planner import Need
from ppack.policy import Decision, Kind, PullPolicy, decide, format_age
from ppack.puller import Puller, PullFailed, PullRequest
from ppack.settings import DEFAULT_MAX_PARALLEL


WAIT_NOTICE_AFTER = 3.0


@dataclass
class Refresher:
    """One run's view of the daemon and the log; ``clock`` is injected so tests control time."""

    engine: Engine
    daemon_id: str
    home: Path
    log: pulllog.PullLog
    policy: PullPolicy
    clock: Callable[[], datetime]
    reporter: Reporter
    make_puller: Callable[[], Puller]
    max_parallel: int = DEFAULT_MAX_PARALLEL
    pulled: list[str] = field(default_factory=list)
    fresh: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # shown name → why it was not pulled
    stale: list[str] = field(default_factory=list)  # due, not refreshed: the local copy is used
    _inspected: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    _puller: Puller | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def log_path(self) -> Path:
        return pulllog.log_path(self.home)

    def inspect(self, name: str) -> dict[str, Any] | None:
        if name not in self._inspected:
            self._inspected[name] = self.engine.inspect_image(name)
        return self._inspected[name]

    def present(self, name: str) -> bool:
        return self.inspect(name) is not None

    def evaluate(self, need: Need) -> Decision:
        # pack resolves registry buildpacks itself; only the log can say when they were pulled.
        present = True if need.via_pack else self.present(need.name)
        record = self.log.record(self.daemon_id, need.key)
        decision = decide(
            self.policy,
            present=present,
            last_pulled=record.pulled_at if record else None,
            now=self.clock(),
        )
        if not present and self.policy.kind is Kind.NEVER:
            raise PpackError(
                f"image '{need.name}' ({need.role}) is not in the daemon, "
                "and --pull-policy never does not pull it"
            )
        return decision

    def ensure(self, needs: list[Need]) -> None:
        """Pull every due image, in parallel; raise PpackError for one that cannot be had."""
        due: list[tuple[Need, Decision]] = []
        # A re-plan after the builder changed names some images again: this run has them already.
        for need in (n for n in _unique(needs) if n.key not in self.pulled):
            decision = self.evaluate(need)
            self.reporter.debug(
                f"{reference.familiar(need.name)} ({need.role}, {need.why}): "
                f"{'pull' if decision.pull else 'keep'}, {decision.reason}"
            )
            if decision.pull:
                due.append((need, decision))
            elif need.key not in self.fresh:
                self.fresh.append(need.key)
                self.kept[reference.familiar(need.name)] = decision.reason
        if not due:
            return
        failures = self._refresh_in_parallel(due)
        # Every failure is worth a line; the first one decides the exit.
        for failure in failures[1:]:
            self.reporter.error(failure.message)
        if failures:
            raise failures[0]

    def _refresh_in_parallel(self, due: list[tuple[Need, Decision]]) -> list[PpackError]:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=min(self.max_parallel, len(due)))
        try:
            results = list(pool.map(lambda item: self._refresh(*item), due))
        except BaseException:
            # Ctrl-C: do not wait for pulls still streaming; what finished is already recorded.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        return [failure for failure in results if failure is not None]

    def _refresh(self, need: Need, decision: Decision) -> PpackError | None:
        try:
            with self._single_flight(need):
                if self._pulled_meanwhile(need):
                    return None
                self._pull(need, decision)
        except PullFailed as failure:
            return self._after_failure(need, failure)
        except PpackError as error:
            return error
        return None

    def _pulled_meanwhile(self, need: Need) -> bool:
        """Another ppack pulled it since this one read the log (e.g. while it waited for the lock)."""
        record = pulllog.load(self.log_path).log.record(self.daemon_id, need.key)
        seen = self.log.record(self.daemon_id, need.key)
        # A record dated in the future is not "just now": it is stale, like any other.
        if record is None or record.pulled_at > self.clock():
            return False
        if seen is not None and record.pulled_at <= seen.pulled_at:
            return False
        with self._lock:
            self._inspected.pop(need.name, None)
        if not need.via_pack and not self.present(need.name):
            return False
        self.reporter.info(f"Using {reference.familiar(need.name)}, pulled just now by another ppack")
        return True

    def _pull(self, need: Need, decision: Decision) -> None:
        puller = self._get_puller()
        request = PullRequest(
            need.name,
            reference.familiar(need.name),
            decision.reason,
            need.platform,
            need.via_pack,
            need.pack_args,
        )
        puller.pull(request)
        with self._lock:
            self._inspected.pop(need.name, None)
        inspect = {} if need.via_pack else self.inspect(need.name)
        if inspect is None:
            raise PpackError(f"pulled '{need.name}' but the daemon does not list it")
        if need.alias:
            # pack picks the run image by its untranslated name, then reads the translated one.
            self.engine.tag(need.name, need.alias)
            with self._lock:
                self._inspected.pop(need.alias, None)
        self._record(need, inspect)
        with self._lock:
            self.pulled.append(need.key)

    def _get_puller(self) -> Puller:
        with self._lock:
            if self._puller is None:
                self._puller = self.make_puller()
            return self._puller

    def _record(self, need: Need, inspect: dict[str, Any]) -> None:
        record = pulllog.Record(
            pulled_at=self.clock(),
            name=need.name,
            image_id=str(inspect.get("Id") or ""),
            repo_digest=_repo_digest(need.name, inspect.get("RepoDigests") or []),
            platform="/".join(
                str(p) for p in (inspect.get("Os"), inspect.get("Architecture"), inspect.get("Variant")) if p
            ),
        )
        try:
            pulllog.update(
                self.log_path,
                {(self.daemon_id, need.key): record},
                self.clock(),
                interval=self.policy.interval,
            )
        except pulllog.SaveFailed as error:
            self.reporter.warn(
                f"could not save the pull log {self.log_path} ({error}); "
                "the images were pulled, but the next build will pull them again"
            )

    def _after_failure(self, need: Need, failure: PullFailed) -> PpackError | None:
        shown = reference.familiar(need.name)
        record = self.log.record(self.daemon_id, need.key)
        # A registry buildpack has a local copy only if ppack pulled it before.
        was_present = record is not None if need.via_pack else self.present(need.name)
        if self.policy.is_interval and was_present and not failure.missing:
            age = f" pulled {format_age(self.clock() - record.pulled_at)} ago" if record else ""
            self.reporter.warn(f"could not refresh {shown} ({failure.reason}); using the local copy{age}")
            with self._lock:
                self.stale.append(need.key)
            return None
        return PpackError(f"failed to pull {shown} ({need.role}): {failure.reason}")

    @contextlib.contextmanager
    def _single_flight(self, need: Need) -> Iterator[None]:
        """One pull per image across processes; the others wait, then reuse its result."""
        import hashlib

        from filelock import FileLock, Timeout

        digest = hashlib.sha256(f"{self.daemon_id}\n{need.key}".encode()).hexdigest()[:32]
        folder = self.home / "ppack-locks"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(folder / f"{digest}.lock"))
            if not _acquire(lock, WAIT_NOTICE_AFTER, Timeout):
                self.reporter.info(
                    f"Waiting for another ppack to finish pulling {reference.familiar(need.name)}"
                )
                lock.acquire(timeout=LOCK_WAIT)
        except Timeout:
            self.reporter.warn(f"gave up waiting for another ppack pulling {need.name}; pulling it here")
            yield
            return
        except OSError:
            yield  # a read-only home cannot hold locks; pulling twice is the worst outcome
            return
        try:
            yield
        finally:
            lock.release()


LOCK_WAIT = 15 * 60.0


def _acquire(lock: Any, seconds: float, timeout_error: type[Exception]) -> bool:
    try:
        lock.acquire(timeout=seconds)
    except timeout_error:
        return False
    return True


def _unique(needs: list[Need]) -> list[Need]:
    seen: dict[str, Need] = {}
    for need in needs:
        seen.setdefault(need.key, need)
    return list(seen.values())


def _repo_digest(name: str, digests: list[Any]) -> str:
    try:
        wanted = reference.parse(name).repository_str
    except reference.ReferenceError:
        wanted = ""
    for digest in map(str, digests):
        repo = digest.split("@", 1)[0]
        if wanted and repo.endswith(wanted):
            return digest
    return str(digests[0]) if digests else ""


def now_utc() -> datetime:
    from datetime import timezone

    return datetime.now(timezone.utc)
