"""
A minimal HTTP/1.1 client over a unix socket, for the daemon's few JSON GETs.

``http.client`` drags in the email package and costs more to import than all
of ppack's fresh-path work (issue #6); the Engine API over a unix socket needs
only request lines, a status, headers, and a Content-Length or chunked body.
"""

from __future__ import annotations

import socket


class ProtocolError(ConnectionError):
    """The daemon's answer was not HTTP this client understands."""


class UnixHTTP:
    """One kept-alive connection; callers serialise requests."""

    def __init__(self, path: str, timeout: float) -> None:
        self._path = path
        self._timeout = timeout
        self._sock: socket.socket | None = None
        self._buffer = b""

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._buffer = b""

    def request(self, method: str, path: str) -> tuple[int, bytes]:
        if self._sock is None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._sock.settimeout(self._timeout)
            self._sock.connect(self._path)
        head = f"{method} {path} HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n\r\n"
        self._sock.sendall(head.encode("latin-1"))
        status, headers = self._read_head()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            body = self._read_exactly(int(headers.get("content-length", "0") or 0))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def _read_head(self) -> tuple[int, dict[str, str]]:
        lines = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ProtocolError(f"unexpected status line {lines[0][:80]!r}")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return int(parts[1]), headers

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size_line = self._read_until(b"\r\n").split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise ProtocolError("bad chunk size") from None
            if size == 0:
                self._read_until(b"\r\n")  # no trailers from the Engine API
                return bytes(body)
            body += self._read_exactly(size)
            self._read_exactly(2)

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            self._fill()
        found, _, self._buffer = self._buffer.partition(marker)
        return found

    def _read_exactly(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._fill()
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def _fill(self) -> None:
        assert self._sock is not None  # noqa: S101 - request() connects first
        data = self._sock.recv(65536)
        if not data:
            raise ConnectionResetError("the daemon closed the connection")
        self._buffer += data
