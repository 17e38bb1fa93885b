"""
The pull log under concurrency and crashes (issue #4), with real processes.

No daemon is needed: writers call ppack.pulllog.update directly, exactly as
ppack does after each pull.
"""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ppack import pulllog


NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)

WRITER = """
import sys
from datetime import datetime, timezone
from pathlib import Path
from ppack import pulllog

path, prefix, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
print("ready", flush=True)
for i in range(count):
    now = datetime.now(timezone.utc)
    record = pulllog.Record(pulled_at=now, name=f"{prefix}/image:{i}", image_id=f"sha256:{i:064x}")
    pulllog.update(path, {("daemon-a", f"docker.io/{prefix}/image:{i}"): record}, now)
"""


def _writer(path: Path, prefix: str, count: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), prefix, str(count)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def _seed(path: Path, count: int) -> set[str]:
    changes = {
        ("daemon-a", f"docker.io/seed/image:{i}"): pulllog.Record(
            pulled_at=datetime.now(timezone.utc) - timedelta(hours=1), name=f"seed/image:{i}"
        )
        for i in range(count)
    }
    pulllog.update(path, changes, datetime.now(timezone.utc))
    return {key for _, key in changes}


def test_kill_9_at_random_moments_never_tears_or_loses_the_log(tmp_path: Path) -> None:
    path = tmp_path / pulllog.FILE_NAME
    seeded = _seed(path, 50)
    rng = random.Random(20261203)
    held: set[str] = set(seeded)
    for _ in range(200):
        process = _writer(path, "w", 10_000)
        time.sleep(rng.uniform(0, 0.03))
        process.send_signal(signal.SIGKILL)
        process.wait()
        text = path.read_text()
        log = pulllog.PullLog.from_json(json.loads(text))  # parses: never torn
        keys = set(log.daemons["daemon-a"].images)
        assert held <= keys, f"lost records: {sorted(held - keys)[:5]}"
        held = keys
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # A killed writer may leave its temp file; it is never mistaken for the log…
    assert all(name.startswith(f".{pulllog.FILE_NAME}.") for name in leftovers)
    # …and the next write, under the lock, clears it away.
    now = datetime.now(timezone.utc)
    pulllog.update(path, {("daemon-a", "docker.io/last/image:1"): pulllog.Record(now, "last/image:1")}, now)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert held | {"docker.io/last/image:1"} <= set(pulllog.read(path).daemons["daemon-a"].images)


def test_parallel_writers_of_different_images_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / pulllog.FILE_NAME
    writers = [_writer(path, f"w{n}", 40) for n in range(8)]
    for process in writers:
        assert process.wait(timeout=120) == 0
    log = pulllog.read(path)
    keys = set(log.daemons["daemon-a"].images)
    expected = {f"docker.io/w{n}/image:{i}" for n in range(8) for i in range(40)}
    assert keys == expected


def test_a_failure_before_replace_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / pulllog.FILE_NAME
    seeded = _seed(path, 3)
    before = path.read_bytes()

    def disk_full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("ppack.pulllog.os.replace", disk_full)
    record = pulllog.Record(pulled_at=NOW, name="x")
    with pytest.raises(pulllog.SaveFailed, match="No space left"):
        pulllog.update(path, {("daemon-a", "docker.io/library/x:latest"): record}, NOW)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert set(pulllog.read(path).daemons["daemon-a"].images) == seeded
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")], "temp file left behind"


def test_the_next_write_clears_what_a_killed_writer_left(tmp_path: Path) -> None:
    path = tmp_path / pulllog.FILE_NAME
    _seed(path, 2)
    stray = tmp_path / f".{pulllog.FILE_NAME}.k1ll3d.tmp"
    stray.write_text('{"schema": 1, "daem')  # half a log, as a kill -9 mid-write leaves it
    unrelated = tmp_path / ".config.toml.abc.tmp"
    unrelated.write_text("pack's, not ours")
    record = pulllog.Record(pulled_at=NOW, name="x")
    pulllog.update(path, {("daemon-a", "docker.io/library/x:latest"): record}, NOW)
    assert not stray.exists()
    assert unrelated.read_text() == "pack's, not ours"


def test_writes_keep_the_log_s_mode(tmp_path: Path) -> None:
    path = tmp_path / pulllog.FILE_NAME
    record = pulllog.Record(pulled_at=NOW, name="x")
    key = ("daemon-a", "docker.io/library/x:latest")
    old_umask = os.umask(0o022)
    try:
        pulllog.update(path, {key: record}, NOW)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # a new log: what the umask allows, not 0600
    path.chmod(0o640)
    pulllog.update(path, {key: record}, NOW)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
