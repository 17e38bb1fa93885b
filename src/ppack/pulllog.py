"""
The pull log: when ppack last pulled each image, per Docker daemon.

One JSON file in pack's home, ``ppack-pull-log.json``. Readers never lock: every
write is a locked read-modify-write that lands with ``os.replace``, so a reader
sees the old file or the new one, never a torn one, and a crash at any instant
loses nothing that was written before. Time always comes in as a parameter.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any


SCHEMA = 1
FILE_NAME = "ppack-pull-log.json"
MIN_RETENTION = timedelta(days=30)
LOCK_TIMEOUT = 30.0


class CorruptLog(ValueError):
    """The file exists but is not a pull log ppack can trust."""


def utc_iso(moment: datetime) -> str:
    # Microseconds matter: a waiting ppack compares a record with its own start time.
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> datetime:
    """ISO-8601 with a zone (``Z`` or an offset), as UTC; ValueError for anything else."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {text}")
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before datetime.min in UTC
        raise ValueError(f"timestamp out of range: {text}") from None


@dataclass(frozen=True)
class Record:
    """What ppack saw right after a successful pull."""

    pulled_at: datetime
    name: str
    image_id: str = ""
    repo_digest: str = ""
    platform: str = ""

    def to_json(self) -> dict[str, str]:
        data = asdict(self)
        data["pulled_at"] = utc_iso(self.pulled_at)
        return data

    @classmethod
    def from_json(cls, data: Any) -> Record:
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise CorruptLog("a record is not an object of strings")
        try:
            return cls(
                pulled_at=parse_utc(data["pulled_at"]),
                name=data["name"],
                image_id=data.get("image_id", ""),
                repo_digest=data.get("repo_digest", ""),
                platform=data.get("platform", ""),
            )
        except (KeyError, ValueError) as error:
            raise CorruptLog(f"a record is malformed: {error}") from None


@dataclass
class DaemonRecords:
    last_seen: datetime
    images: dict[str, Record] = field(default_factory=dict)


@dataclass
class PullLog:
    """The whole file, in memory. Keys are daemon IDs, then canonical image names."""

    daemons: dict[str, DaemonRecords] = field(default_factory=dict)
    longest_interval: timedelta = timedelta(0)

    def record(self, daemon_id: str, key: str) -> Record | None:
        daemon = self.daemons.get(daemon_id)
        return daemon.images.get(key) if daemon else None

    def put(self, daemon_id: str, key: str, record: Record) -> None:
        daemon = self.daemons.setdefault(daemon_id, DaemonRecords(record.pulled_at))
        daemon.images[key] = record
        daemon.last_seen = max(daemon.last_seen, record.pulled_at)

    def forget(self, daemon_id: str, key: str) -> bool:
        daemon = self.daemons.get(daemon_id)
        return daemon is not None and daemon.images.pop(key, None) is not None

    def prune(self, now: datetime) -> int:
        """Drop records and daemons older than max(30 days, the longest interval seen)."""
        cutoff = now - max(MIN_RETENTION, self.longest_interval)
        dropped = 0
        for daemon_id in list(self.daemons):
            daemon = self.daemons[daemon_id]
            for key in [k for k, r in daemon.images.items() if r.pulled_at < cutoff]:
                del daemon.images[key]
                dropped += 1
            if daemon.last_seen < cutoff or not daemon.images:
                dropped += len(daemon.images)
                del self.daemons[daemon_id]
        return dropped

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "longest_interval_seconds": int(self.longest_interval.total_seconds()),
            "daemons": {
                daemon_id: {
                    "last_seen": utc_iso(daemon.last_seen),
                    "images": {key: record.to_json() for key, record in sorted(daemon.images.items())},
                }
                for daemon_id, daemon in sorted(self.daemons.items())
            },
        }

    @classmethod
    def from_json(cls, data: Any) -> PullLog:
        if not isinstance(data, dict):
            raise CorruptLog("not a JSON object")
        schema = data.get("schema")
        # type(): true and 1.0 compare equal to 1 in Python, and are not schema 1.
        if type(schema) is not int or schema != SCHEMA:
            raise CorruptLog(f"unknown schema version {schema!r}")
        daemons = data.get("daemons")
        longest = data.get("longest_interval_seconds", 0)
        if not isinstance(daemons, dict) or not isinstance(longest, int) or isinstance(longest, bool):
            raise CorruptLog("wrong types at the top level")
        log = cls(longest_interval=timedelta(seconds=max(0, min(longest, 10**9))))
        for daemon_id, entry in daemons.items():
            log.daemons[daemon_id] = _daemon_from_json(entry)
        return log


def _daemon_from_json(entry: Any) -> DaemonRecords:
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("images"), dict)
        or not isinstance(entry.get("last_seen"), str)
    ):
        raise CorruptLog("a daemon entry is malformed")
    try:
        last_seen = parse_utc(entry["last_seen"])
    except ValueError as error:
        raise CorruptLog(f"a daemon entry is malformed: {error}") from None
    images = {str(key): Record.from_json(value) for key, value in entry["images"].items()}
    return DaemonRecords(last_seen, images)


def log_path(home: Path) -> Path:
    return home / FILE_NAME


def read(path: Path) -> PullLog:
    """Parse the log; a missing file is an empty log, anything unusable raises CorruptLog."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return PullLog()
    except IsADirectoryError:
        raise CorruptLog("a directory stands where the file should be") from None
    except OSError as error:
        raise CorruptLog(f"cannot be read: {error.strerror or error}") from None
    if not raw.strip():
        raise CorruptLog("the file is empty")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise CorruptLog(f"not JSON: {_first_line(error)}") from None
    return PullLog.from_json(data)


def _first_line(error: BaseException) -> str:
    lines = str(error).splitlines()
    return lines[0][:200] if lines else type(error).__name__


@dataclass(frozen=True)
class Loaded:
    log: PullLog
    problem: str = ""


def load(path: Path) -> Loaded:
    """For readers: never raises; a corrupt log reads as empty, with the reason."""
    try:
        return Loaded(read(path))
    except CorruptLog as error:
        return Loaded(PullLog(), str(error))


class SaveFailed(OSError):
    """The log could not be written (read-only home, disk full, lock timeout)."""


def update(
    path: Path,
    changes: Mapping[tuple[str, str], Record | None],
    now: datetime,
    *,
    interval: timedelta | None = None,
) -> str:
    """
    Apply ``changes`` (None forgets a record) under the lock, prune, write atomically.

    Returns the problem found in the file as it was ("" when it was sound); a
    corrupt file is kept aside as ``<name>.corrupt-<timestamp>`` before it is
    replaced. Raises SaveFailed when nothing could be written.
    """
    with _locked(path):
        try:
            log, problem = read(path), ""
        except CorruptLog as error:
            log, problem = PullLog(), str(error)
            _keep_aside(path, now)
        for (daemon_id, key), record in changes.items():
            if record is None:
                log.forget(daemon_id, key)
            else:
                log.put(daemon_id, key, record)
        if interval is not None:
            log.longest_interval = max(log.longest_interval, interval)
        log.prune(now)
        _write_locked(path, log)
        return problem


def rewrite(path: Path, transform: Any, now: datetime) -> Any:
    """Run ``transform(log)`` under the lock and save; for ``pull-log clear/prune/forget``."""
    with _locked(path):
        try:
            log = read(path)
        except CorruptLog:
            _keep_aside(path, now)
            log = PullLog()
        result = transform(log)
        log.prune(now)  # every write prunes (README: "The pull log")
        _write_locked(path, log)
        return result


def _write_locked(path: Path, log: PullLog) -> None:
    """The caller holds the lock, so no temp file here belongs to a live writer."""
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        # A writer killed mid-write left it; without this, every crash would leave one more.
        with contextlib.suppress(OSError):
            leftover.unlink()
    write_atomic(path, log.to_json())


def _keep_aside(path: Path, now: datetime) -> None:
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    for count in range(1, 100):  # never replace an earlier copy kept aside in the same second
        if not os.path.lexists(target):
            break
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{count}")
    try:
        os.replace(path, target)
    except FileNotFoundError:
        pass
    except OSError as error:
        raise SaveFailed(f"cannot move the corrupt log aside: {error.strerror or error}") from None


def write_atomic(path: Path, data: Mapping[str, Any]) -> None:
    """Temp file in the same folder, fsync, rename: the file is old or new, never torn."""
    import tempfile  # only writers need it

    payload = (json.dumps(data, indent=1, sort_keys=False) + "\n").encode()
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise SaveFailed(error.strerror or str(error)) from None
    try:
        # mkstemp makes it 0600; keep the mode the log had, else what the umask allows.
        if hasattr(os, "fchmod"):  # not on Windows, where mkstemp's mode does not apply
            os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        _fsync_dir(path.parent)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise SaveFailed(error.strerror or str(error)) from None


def _read_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


# Read once, at import, while one thread runs: os.umask sets as it reads, so two pull threads
# reading it at once could leave it at 0 for pack.
_UMASK = _read_umask()


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_UMASK


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible on Windows, where it is not needed.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    from filelock import FileLock, Timeout

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT)
        lock.acquire()
    except Timeout:
        raise SaveFailed(f"timed out after {LOCK_TIMEOUT:.0f} s waiting for {path}.lock") from None
    except OSError as error:
        raise SaveFailed(error.strerror or str(error)) from None
    try:
        yield
    finally:
        lock.release()
