"""The daemon's identity in the pull log, against small stand-in Engine APIs on a unix socket."""

from __future__ import annotations

import contextlib
import http.server
import json
import socketserver
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ppack.daemon import DaemonAddress, DaemonUnavailable, Engine
from ppack.messages import PpackError


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@contextlib.contextmanager
def engine_api(tmp_path: Path, info: Callable[[], dict[str, Any] | bytes]) -> Iterator[Engine]:
    """An Engine talking to a server whose GET /info answers ``info()`` (JSON, or raw bytes)."""

    class Answer(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            answer = info()
            body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def address_string(self) -> str:
            return "unix"

        def log_message(self, *args: object) -> None:
            pass

    socket_path = tmp_path / "api.sock"
    server = _UnixHTTPServer(str(socket_path), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    engine = Engine(DaemonAddress(f"unix://{socket_path}", "test"), timeout=5)
    try:
        yield engine
    finally:
        engine.close()
        server.shutdown()
        server.server_close()


def test_docker_is_known_by_its_id(tmp_path: Path) -> None:
    with engine_api(tmp_path, lambda: {"ID": "7TRN:IPZB:QYBB:VPBQ", "Name": "ci-1"}) as engine:
        assert engine.daemon_id() == "7TRN:IPZB:QYBB:VPBQ"


def test_podman_is_known_by_its_store_not_its_random_id(tmp_path: Path) -> None:
    def podman_info() -> dict[str, Any]:
        return {
            "ID": str(uuid.uuid4()),  # new on every call, as Podman's compat API does
            "Name": "laptop",
            "DockerRootDir": "/home/dev/.local/share/containers/storage",
            "BuildahVersion": "1.33.7",
            "Rootless": True,
        }

    with engine_api(tmp_path, podman_info) as engine:
        first, second = engine.daemon_id(), engine.daemon_id()
    assert first == second == "podman:laptop:/home/dev/.local/share/containers/storage"


def test_a_daemon_without_an_id_is_one_clear_error(tmp_path: Path) -> None:
    with engine_api(tmp_path, lambda: {"Name": "odd"}) as engine, pytest.raises(DaemonUnavailable) as error:
        engine.daemon_id()
    assert "did not report an ID" in error.value.message


def test_an_answer_that_is_not_json_blames_the_answer_not_the_daemon(tmp_path: Path) -> None:
    html = lambda: b"<html>proxy error</html>\n"  # noqa: E731 - a one-line stand-in answer
    with engine_api(tmp_path, html) as engine, pytest.raises(PpackError) as error:
        engine.daemon_id()
    socket_path = tmp_path / "api.sock"
    assert error.value.message == (
        f"Docker daemon at unix://{socket_path}: GET /info: not a JSON answer: <html>proxy error</html>"
    )
    assert not isinstance(error.value, DaemonUnavailable)
