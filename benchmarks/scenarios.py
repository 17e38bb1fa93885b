"""
The measurements of issue #6, each alternating its variants round by round
(the order rotates every round), so drift in the machine's speed lands on all
variants alike instead of on whichever ran last.
"""

from __future__ import annotations

import re
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench_engine import BUILDER, IMAGES, Bench
from measure import Pace, Sample, Series, run_child


POLICY = "daily"
LOG_RECORDS = 10_000
# The access log is written after the answer; give it a moment before counting.
LOG_SETTLE = 0.3
_PULLED = re.compile(r"^Pulled (\S+) \((?:.* in )?([\d.]+) s\)", re.MULTILINE)


def ppack_argv() -> list[str]:
    """The installed console script, as users run it; ``python -m ppack`` without one."""
    script = Path(sys.executable).with_name("ppack")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "ppack"]


def build_argv() -> list[str]:
    return [*ppack_argv(), "build", "app", "-B", BUILDER, "--pull-policy", POLICY]


def _nothing() -> None:
    pass


@dataclass
class Variant:
    """One thing to time: ``prepare`` runs untimed before each sample."""

    series: Series
    run: Callable[[], Sample]
    prepare: Callable[[], None] = _nothing
    count_requests: bool = False


def alternate(bench: Bench, variants: Sequence[Variant], rounds: int, pace: Pace, what: str) -> None:
    for index in range(rounds):
        pace.next_round(f"{what} round {index + 1}")
        shift = index % len(variants)
        for variant in [*variants[shift:], *variants[:shift]]:
            variant.prepare()
            if variant.count_requests and variant.prepare is not _nothing:
                time.sleep(LOG_SETTLE)  # a republish's own requests must land before the mark
            mark = bench.registry.mark()
            sample = variant.run()
            requests = None
            if variant.count_requests:
                time.sleep(LOG_SETTLE)
                requests = bench.registry_requests(mark)
            variant.series.add(sample, requests)


def _output(bench: Bench, name: str) -> Path:
    return bench.workdir / f"{name}.out"


def ppack_run(bench: Bench, pack_home: Path, name: str, **extra: str) -> Callable[[], Sample]:
    argv, env = build_argv(), bench.env(pack_home, **extra)
    return lambda: run_child(argv, env, _output(bench, name))


def warm(bench: Bench, pack_home: Path) -> None:
    """Pull everything once into ``pack_home``'s log, then prove the next run is fresh."""
    run_child(build_argv(), bench.env(pack_home), _output(bench, "warm"))
    fresh = run_child(build_argv(), bench.env(pack_home), _output(bench, "warm"))
    if "nothing to pull" not in fresh.output:
        raise RuntimeError(f"the warm-up left something due:\n{fresh.output}")


# --------------------------------------------------------------------------- fresh path, pull-log cost


@dataclass
class FreshResult:
    pack: Series
    python: Series
    ppack: Series
    ppack_big_log: Series
    proxy_requests: int
    log_bytes: int


def fresh_path(bench: Bench, rounds: int, pace: Pace) -> FreshResult:
    """ppack with nothing due, against the floors it cannot go below, and with a 10,000-record log."""
    small, big = bench.pack_home("fresh-small"), bench.pack_home("fresh-big")
    warm(bench, small)
    log_bytes = write_big_log(small, big)
    env = bench.env(small)
    result = FreshResult(
        pack=Series("stand-in pack alone"),
        python=Series("python -c pass"),
        ppack=Series("ppack build, fresh"),
        ppack_big_log=Series(f"ppack build, fresh, {LOG_RECORDS:,}-record log"),
        proxy_requests=0,
        log_bytes=log_bytes,
    )
    variants = [
        Variant(result.pack, lambda: run_child([str(bench.stand_in_pack)], env, _output(bench, "pack"))),
        Variant(result.python, lambda: run_child([sys.executable, "-c", "pass"], env, _output(bench, "py"))),
        Variant(result.ppack, ppack_run(bench, small, "fresh"), count_requests=True),
        Variant(result.ppack_big_log, ppack_run(bench, big, "fresh-big"), count_requests=True),
    ]
    before = bench.proxy.counts()[1]
    alternate(bench, variants, rounds, pace, "fresh path")
    result.proxy_requests = bench.proxy.counts()[1] - before
    return result


def write_big_log(small: Path, big: Path) -> int:
    """The small log's real records plus synthetic ones up to LOG_RECORDS, via ppack's own API."""
    from ppack import pulllog

    log = pulllog.read(pulllog.log_path(small))
    (daemon_id, daemon), *_ = log.daemons.items()
    now = datetime.now(timezone.utc)
    for index in range(LOG_RECORDS - len(daemon.images)):
        digest = secrets.token_hex(32)
        record = pulllog.Record(
            pulled_at=now - timedelta(minutes=index % 1440),
            name=f"index.docker.io/bench/image-{index}:latest",
            image_id=f"sha256:{secrets.token_hex(32)}",
            repo_digest=f"bench/image-{index}@sha256:{digest}",
            platform="linux/amd64",
        )
        log.put(daemon_id, f"docker.io/bench/image-{index}:latest", record)
    path = pulllog.log_path(big)
    pulllog.write_atomic(path, log.to_json())
    return path.stat().st_size


# --------------------------------------------------------------------------- always vs fresh


@dataclass
class AlwaysResult:
    always: Series
    ppack: Series


def always_vs_fresh(bench: Bench, rounds: int, pace: Pace) -> AlwaysResult:
    """pack's default: a daemon pull of every image (one after another, as pack does), then pack."""
    home = bench.pack_home("fresh-small")
    result = AlwaysResult(Series("pack build --pull-policy always (emulated)"), Series("ppack build, fresh"))
    env = bench.env(home)

    def always() -> Sample:
        started = time.perf_counter()
        for image in IMAGES:
            _daemon_pull(bench, image)
        run_child([str(bench.stand_in_pack)], env, _output(bench, "always"))
        # The pulls ran inside the harness: there is no child whose memory means anything.
        return Sample(time.perf_counter() - started, None, "")

    variants = [
        Variant(result.always, always, count_requests=True),
        Variant(result.ppack, ppack_run(bench, home, "fresh"), count_requests=True),
    ]
    alternate(bench, variants, rounds, pace, "always vs fresh")
    return result


def _daemon_pull(bench: Bench, image: str) -> None:
    repository, _, tag = image.rpartition(":")
    for message in bench.dockerd.api.pull(repository, tag=tag, stream=True, decode=True):
        if "error" in message or "errorDetail" in message:
            raise RuntimeError(f"pull of {image} failed: {message}")


# --------------------------------------------------------------------------- due pulls


@dataclass
class PullResult:
    label: str
    sequential: Series
    parallel: Series
    single_pulls: list[dict[str, float]] = field(default_factory=list)


def due_pulls(bench: Bench, rounds: int, pace: Pace, *, cold: bool) -> PullResult:
    """
    All three images due, one pull at a time (PPACK_MAX_PARALLEL=1) vs in parallel.

    ``cold=False``: the daemon holds all three, upstream has published new ones and
    the log is two days old, so ppack reads the present builder's labels and
    pulls all three at once. ``cold=True``: the daemon is empty, so the builder
    must come first (its labels name the rest) and the other two follow together.
    """
    home = bench.pack_home("cold" if cold else "updated")
    warm(bench, home)
    label = (
        "cold daemon: the builder first, then the other two"
        if cold
        else "builder present, new images upstream, log 2 days old: all three at once"
    )
    result = PullResult(
        label, Series("ppack, 3 due, PPACK_MAX_PARALLEL=1"), Series("ppack, 3 due, parallel (4)")
    )

    def prepare() -> None:
        if cold:
            bench.dockerd.remove_all_images()
        else:
            bench.publish_all()
            age_log(home, timedelta(days=2))
        bench.remove_dangling()

    sequential = ppack_run(bench, home, "seq", PPACK_MAX_PARALLEL="1")

    def timed_sequential() -> Sample:
        sample = sequential()
        result.single_pulls.append({name: float(seconds) for name, seconds in _PULLED.findall(sample.output)})
        return sample

    variants = [
        Variant(result.sequential, timed_sequential, prepare, count_requests=True),
        Variant(result.parallel, ppack_run(bench, home, "par"), prepare, count_requests=True),
    ]
    alternate(bench, variants, rounds, pace, f"due pulls ({label})")
    _check_pulled_all(result)
    return result


def _check_pulled_all(result: PullResult) -> None:
    for pulls in result.single_pulls:
        if len(pulls) != len(IMAGES):
            raise RuntimeError(f"a sequential run pulled {sorted(pulls)}, not all of {IMAGES}")


def age_log(pack_home: Path, by: timedelta) -> None:
    """Move every record back in time, as conftest's Workspace.age_log does."""
    from ppack import pulllog

    path = pulllog.log_path(pack_home)
    log = pulllog.read(path)
    for daemon in log.daemons.values():
        daemon.last_seen -= by
        for key, record in list(daemon.images.items()):
            daemon.images[key] = pulllog.Record(
                record.pulled_at - by, record.name, record.image_id, record.repo_digest, record.platform
            )
    pulllog.write_atomic(path, log.to_json())
