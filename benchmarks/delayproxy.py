"""
A loopback TCP proxy that makes a local registry look distant.

Every byte from the client (dockerd) to the registry is held for ``delay``
seconds before it is forwarded, and every new connection waits ``delay``
before it is opened upstream (the TCP handshake). Requests are small and
answers are large, so a request/answer round trip costs about ``delay`` while
bandwidth stays loopback-fast: latency, not a throttle, as with a public
registry on another continent. Chunks are queued with their due time, so a
pipelined or pooled client is not serialised behind one sleep.

It binds 127.0.0.1 only, counts connections and HTTP requests (an independent
check on the registry's access log), and every loop ends on ``close()``.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time


_METHODS = (b"GET ", b"HEAD ", b"POST ", b"PUT ", b"PATCH ", b"DELETE ")
_ACCEPT_POLL = 0.2  # seconds: how soon the accept loop notices close()
_IDLE_LIMIT = 300.0  # seconds a proxied connection may sit silent before it is dropped
_CHUNK = 65536


class DelayProxy:
    """``127.0.0.1:<port>`` → ``127.0.0.1:<upstream_port>``, with a one-way delay on requests."""

    def __init__(self, upstream_port: int, delay: float) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self.connections = 0
        self.requests = 0
        self._counter_lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(_ACCEPT_POLL)
        self.port: int = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept_loop, name="delay-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def counts(self) -> tuple[int, int]:
        """(connections, requests) seen so far."""
        with self._counter_lock:
            return self.connections, self.requests

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        with self._counter_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._counter_lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        # The handshake of a distant server costs one round trip before any byte moves.
        time.sleep(self.delay)
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
        except OSError:
            client.close()
            return
        for sock in (client, upstream):
            sock.settimeout(_IDLE_LIMIT)
            self._track(sock)
        pending: queue.Queue[tuple[float, bytes]] = queue.Queue()
        helpers = [
            threading.Thread(target=self._deliver, args=(pending, upstream), daemon=True),
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True),
        ]
        for helper in helpers:
            helper.start()
        self._read_requests(client, pending)
        for helper in helpers:
            helper.join(timeout=_IDLE_LIMIT)
        for sock in (client, upstream):
            self._forget(sock)

    def _read_requests(self, client: socket.socket, pending: queue.Queue[tuple[float, bytes]]) -> None:
        """Client → queue, each chunk stamped with the moment it may reach the registry."""
        while not self._stop.is_set():
            data = self._recv(client)
            if data.startswith(_METHODS):
                with self._counter_lock:
                    self.requests += 1
            pending.put((time.monotonic() + self.delay, data))
            if not data:
                return

    def _deliver(self, pending: queue.Queue[tuple[float, bytes]], upstream: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                due, data = pending.get(timeout=_IDLE_LIMIT)
            except queue.Empty:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            if not data:
                break
            try:
                upstream.sendall(data)
            except OSError:
                break
        self._shut(upstream)

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        """Registry → client, at once: the answer's latency is already in the request's."""
        while not self._stop.is_set():
            data = self._recv(source)
            if not data:
                break
            try:
                target.sendall(data)
            except OSError:
                break
        self._shut(target)

    @staticmethod
    def _recv(sock: socket.socket) -> bytes:
        try:
            return sock.recv(_CHUNK)
        except OSError:
            return b""

    def _track(self, sock: socket.socket) -> None:
        with self._counter_lock:
            self._open.add(sock)

    def _forget(self, sock: socket.socket) -> None:
        with self._counter_lock:
            self._open.discard(sock)
        sock.close()

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        """Pass the end of one direction on (HTTP keep-alive ends with it)."""
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
