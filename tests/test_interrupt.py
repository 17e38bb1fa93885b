"""
Ctrl-C during pulls: ppack exits 130 at once, without waiting for pulls still
streaming; pulls that finished are recorded, unfinished ones are not, and pack
is not started.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

from conftest import Workspace
from support.engine import Registry, publish_builder, publish_image, run_image_labels


BUILDER = "halt/builder:1"
RUN = "halt/run:1"


@contextlib.contextmanager
def registry_stalling_on(registry: Registry, marker: str) -> Iterator[None]:
    """The registry as before, except that requests whose path holds ``marker`` never get an answer."""
    release = threading.Event()
    with registry.moved() as usual:
        upstream = registry.port

        class Forward(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if marker in self.path:
                    release.wait(timeout=120)
                    return
                connection = http.client.HTTPConnection("127.0.0.1", upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                connection.request(self.command, self.path, headers=headers)
                answer = connection.getresponse()
                body = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                connection.close()

            do_HEAD = do_GET  # noqa: N815 - http.server's naming

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", usual), Forward)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield
        finally:
            release.set()
            server.shutdown()
            server.server_close()


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


def _wait_for(lines: queue.Queue[str], seen: list[str], text: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            seen.append(lines.get(timeout=0.2))
        except queue.Empty:
            continue
        if text in seen[-1]:
            return True
    return False


def test_ctrl_c_exits_130_at_once_and_keeps_what_finished(
    engine_workspace: Workspace, registry: Registry
) -> None:
    publish_builder(registry, BUILDER, RUN)
    publish_image(None, registry, RUN, labels=run_image_labels())
    ws = engine_workspace
    assert ws.run("build", "app", "-B", BUILDER, "--trust-builder").returncode == 0
    calls_before = len(ws.record_path.read_text().splitlines())
    ws.age_log(timedelta(days=2))
    aged = ws.records()
    with registry_stalling_on(registry, "/halt/run/manifests/"):
        process = subprocess.Popen(
            [sys.executable, "-m", "ppack", "build", "app", "-B", BUILDER, "--trust-builder"],
            env={**ws.env, "PPACK_PULL_TIMEOUT": "120"},
            cwd=ws.app,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_lines, args=(process.stderr, lines), daemon=True).start()
        seen: list[str] = []
        try:
            assert _wait_for(lines, seen, f"Pulled {BUILDER} (", 60), seen
            assert _wait_for(lines, seen, f"Pulling {RUN} (", 1) or any(RUN in s for s in seen), seen
            process.send_signal(signal.SIGINT)
            # The stalled pull would hold ppack for 120 s if it waited for it.
            code = process.wait(timeout=20)
        finally:
            process.kill()
    _wait_for(lines, seen, "\0", 0.5)
    assert code == 130, seen
    assert "ERROR: interrupted\n" in seen
    after = ws.records()
    assert after["docker.io/halt/builder:1"].pulled_at > aged["docker.io/halt/builder:1"].pulled_at
    assert after["docker.io/halt/run:1"] == aged["docker.io/halt/run:1"]
    assert len(ws.record_path.read_text().splitlines()) == calls_before  # pack was not started
