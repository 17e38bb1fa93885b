"""
Pulls: stalls, in-band errors, and progress events a real engine here cannot
produce on demand (containerd's ``units`` without a total).
"""

from __future__ import annotations

import contextlib
import io
import re
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from conftest import Workspace
from ppack import puller
from ppack.daemon import DaemonAddress
from ppack.messages import Reporter, Verbosity
from ppack.progress import LineProgress, LiveProgress, QuietProgress
from support.engine import Registry, lifecycle_labels, publish_builder, publish_image, run_image_labels


BUILDER = "stall/builder:1"
RUN = "stall/run:1"


@contextlib.contextmanager
def silent_registry(registry: Registry) -> Iterator[None]:
    """The registry's port accepts connections and then says nothing at all."""
    registry.stop()
    server = socket.create_server(("127.0.0.1", registry.port))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        server.close()
        registry.start()


def test_a_stalled_pull_gives_up_and_builds_with_the_local_copy(
    engine_workspace: Workspace, registry: Registry
) -> None:
    publish_builder(registry, BUILDER, RUN)
    publish_image(None, registry, RUN, labels=run_image_labels())
    publish_image(None, registry, "buildpacksio/lifecycle:0.21.0", labels=lifecycle_labels())
    ws = engine_workspace
    assert ws.run("build", "app", "-B", BUILDER, "--trust-builder").returncode == 0
    ws.age_log(timedelta(days=2))
    with silent_registry(registry):
        run = ws.run("build", "app", "-B", BUILDER, "--trust-builder", env={"PPACK_PULL_TIMEOUT": "2"})
    assert run.returncode == 0, run.stderr
    assert (
        "Warning: could not refresh stall/builder:1 (no progress for 2 s); using the local copy" in run.stderr
    )


class FakeAPIClient:
    """Stands in for docker.APIClient where the engine cannot misbehave on demand."""

    api_version = "1.41"

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = messages
        self._post = lambda url, **kwargs: None

    def pull(self, repository: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield from self.messages

    def close(self) -> None:
        pass


def fake_puller(monkeypatch: pytest.MonkeyPatch, messages: list[dict[str, Any]]) -> puller.Puller:
    monkeypatch.setattr(puller, "api_client", lambda address, version=None: FakeAPIClient(messages))
    return puller.Puller(
        DaemonAddress("unix:///nowhere", "test"), QuietProgress(), stall_timeout=5, pack=lambda: "pack"
    )


@pytest.mark.parametrize(
    ("message", "missing"),
    [
        ({"errorDetail": {"message": "manifest for x:1 not found: manifest unknown"}, "error": "x"}, True),
        ({"errorDetail": {"message": "toomanyrequests: You have reached your pull rate limit"}}, False),
        ({"error": "write /var/lib/docker/tmp/x: no space left on device"}, False),
        ({"errorDetail": {"message": "received unexpected HTTP status: 503 Service Unavailable"}}, False),
    ],
)
def test_an_error_inside_the_stream_fails_the_pull(
    monkeypatch: pytest.MonkeyPatch, message: dict[str, Any], missing: bool
) -> None:
    stream: list[dict[str, Any]] = [
        {"status": "Pulling from x", "id": "1"},
        {"status": "Downloading", "id": "abc", "progressDetail": {"current": 5, "total": 10}},
        message,
    ]
    with pytest.raises(puller.PullFailed) as failed:
        fake_puller(monkeypatch, stream).pull(puller.PullRequest("x:1", "x:1", "test"))
    assert failed.value.missing is missing
    assert failed.value.reason == (message.get("errorDetail") or {}).get("message", message.get("error"))


def test_a_clean_stream_reports_size(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    stream: list[dict[str, Any]] = [
        {"status": "Pulling from library/x", "id": "1"},
        {"status": "Downloading", "id": "a", "progressDetail": {"current": 500_000, "total": 2_000_000}},
        {"status": "Downloading", "id": "a", "progressDetail": {"current": 2_000_000, "total": 2_000_000}},
        {"status": "Extracting", "id": "a", "progressDetail": {"current": 3, "units": "s"}},
        {"status": "Pull complete", "id": "a"},
        {"status": "Status: Downloaded newer image for x:1"},
    ]
    monkeypatch.setattr(puller, "api_client", lambda address, version=None: FakeAPIClient(stream))
    clock = iter([0.0, 0.0, 1.5, 1.5, 1.5, 1.5])
    pulls = puller.Puller(
        DaemonAddress("unix:///nowhere", "test"),
        LineProgress(Reporter(stream=out)),
        stall_timeout=5,
        pack=lambda: "pack",
        clock=lambda: next(clock),
    )
    pulls.pull(puller.PullRequest("x:1", "x:1", "not in the daemon"))
    assert out.getvalue().splitlines() == ["Pulling x:1 (not in the daemon)", "Pulled x:1 (2.0 MB in 1.5 s)"]


def test_live_progress_handles_containerd_events_without_total() -> None:
    out = io.StringIO()
    ticks = iter(float(n) for n in range(100))
    live = LiveProgress(Reporter(stream=out), clock=lambda: next(ticks))
    live.started("x:1", "pulled 2 days ago (daily)")
    live.event("x:1", {"status": "Extracting", "id": "abc", "progressDetail": {"current": 7, "units": "s"}})
    live.event(
        "x:1", {"status": "Downloading", "id": "def", "progressDetail": {"current": 1500, "total": 3000}}
    )
    screen = out.getvalue()
    assert "  abc: Extracting 7 s" in screen
    assert "  def: Downloading 1.5 kB/3.0 kB" in screen
    live.finished("x:1", "Pulled x:1 (3.0 kB in 2.0 s)")
    live.close()
    last_frame = out.getvalue().rsplit("\x1b[1A\x1b[2K", 1)[-1]
    assert last_frame.strip().endswith("Pulled x:1 (3.0 kB in 2.0 s)")
    assert "abc:" not in last_frame


def test_classify_failure() -> None:
    assert puller.classify_failure("manifest unknown") is True
    assert puller.classify_failure("pull access denied for x, repository does not exist") is True
    assert puller.classify_failure('Get "https://x/v2/": dial tcp: lookup x: no such host') is False
    assert puller.classify_failure("net/http: TLS handshake timeout") is False
    assert puller.classify_failure("toomanyrequests: rate limit, not found") is False


def render(output: str) -> list[str]:
    """What a terminal shows after ``output``: just the controls LiveProgress uses."""
    screen: list[str] = [""]
    row = 0
    for token in re.split(r"(\x1b\[1A|\x1b\[2K|\r|\n)", output):
        if token == "\x1b[1A":
            row = max(row - 1, 0)
        elif token == "\x1b[2K":
            screen[row] = ""
        elif token == "\n":
            row += 1
            if row == len(screen):
                screen.append("")
        elif token and token != "\r":
            screen[row] += token
    return [line for line in screen if line]


def test_live_messages_print_above_the_block_and_summaries_stay() -> None:
    out = io.StringIO()
    ticks = iter(float(n) for n in range(100))
    reporter = Reporter(stream=out)
    live = LiveProgress(reporter, clock=lambda: next(ticks))
    live.started("a:1", "not in the daemon")
    live.started("b:1", "pulled 2 days ago (daily)")
    live.event("b:1", {"status": "Downloading", "id": "l1", "progressDetail": {"current": 10, "total": 20}})
    assert render(out.getvalue()) == [
        "Pulling a:1 (not in the daemon)",
        "Pulling b:1 (pulled 2 days ago (daily))",
        "  l1: Downloading 10 B/20 B",
    ]
    reporter.warn("could not refresh a:1 (connection refused); using the local copy")
    live.failed("a:1")
    live.finished("b:1", "Pulled b:1 (20 B in 1.0 s)")
    reporter.info("Keeping c:1 (pulled 1 h ago, fresh (daily))")
    live.close()
    assert reporter.overlay is None
    assert render(out.getvalue()) == [
        "Warning: could not refresh a:1 (connection refused); using the local copy",
        "Pulled b:1 (20 B in 1.0 s)",
        "Keeping c:1 (pulled 1 h ago, fresh (daily))",
    ]


def test_an_image_already_up_to_date_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    stream: list[dict[str, Any]] = [
        {"status": "Pulling from library/x", "id": "1"},
        {"status": "Already exists", "id": "a", "progressDetail": {}},
        {"status": "Digest: sha256:" + "0" * 64},
        {"status": "Status: Image is up to date for x:1"},
    ]
    monkeypatch.setattr(puller, "api_client", lambda address, version=None: FakeAPIClient(stream))
    clock = iter([0.0, 0.0, 0.2])
    pulls = puller.Puller(
        DaemonAddress("unix:///nowhere", "test"),
        LineProgress(Reporter(stream=out)),
        stall_timeout=5,
        pack=lambda: "pack",
        clock=lambda: next(clock),
    )
    pulls.pull(puller.PullRequest("x:1", "x:1", "policy always"))
    assert out.getvalue().splitlines()[-1] == "Pulled x:1 (already up to date, 0.2 s)"


def test_quiet_keeps_warnings_and_errors_as_pack_does() -> None:
    out = io.StringIO()
    reporter = Reporter(verbosity=Verbosity.QUIET, stream=out)
    reporter.info("Pulling x:1 (not in the daemon)")
    reporter.debug("x:1 (builder): pull")
    reporter.warn("could not refresh x:1 (connection refused); using the local copy")
    reporter.error("failed to pull y:1 (run image): manifest unknown")
    assert out.getvalue().splitlines() == [
        "Warning: could not refresh x:1 (connection refused); using the local copy",
        "ERROR: failed to pull y:1 (run image): manifest unknown",
    ]


def test_timestamps_prefix_every_line_as_pack_does() -> None:
    from datetime import datetime

    out = io.StringIO()
    moment = datetime(2026, 12, 3, 9, 5, 7, 42)
    reporter = Reporter(stream=out, timestamps=True, clock=lambda: moment)
    reporter.info("ppack: 3 images fresh (daily); nothing to pull")
    reporter.warn("could not refresh x:1 (timed out); using the local copy")
    assert out.getvalue().splitlines() == [
        "2026/12/03 09:05:07.000042 ppack: 3 images fresh (daily); nothing to pull",
        "2026/12/03 09:05:07.000042 Warning: could not refresh x:1 (timed out); using the local copy",
    ]


def test_closing_live_progress_erases_pulls_cut_short() -> None:
    out = io.StringIO()
    ticks = iter(float(n) for n in range(100))
    reporter = Reporter(stream=out)
    live = LiveProgress(reporter, clock=lambda: next(ticks))
    live.finished("a:1", "Pulled a:1 (1 B in 0.1 s)")
    live.started("b:1", "not in the daemon")
    live.event("b:1", {"status": "Downloading", "id": "l1", "progressDetail": {"current": 1, "total": 9}})
    live.close()  # as after Ctrl-C: b:1 never finished
    assert render(out.getvalue()) == ["Pulled a:1 (1 B in 0.1 s)"]
