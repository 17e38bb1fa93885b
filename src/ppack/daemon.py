"""
The Docker daemon pack will use, and a small Engine API client for the fresh path.

pack picks its daemon from ``DOCKER_HOST``, else the ``currentContext`` of
``$DOCKER_CONFIG/config.json`` (it ignores ``DOCKER_CONTEXT``); ppack must pull
into that same daemon. Checking what the daemon holds needs only a few GETs,
so this module speaks HTTP itself over the unix socket or TCP: importing
docker-py costs more than the whole fresh path may take (issue #6). docker-py
is used for pulls, and for ssh:// and npipe:// hosts.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from ppack.messages import PpackError


DEFAULT_HOST = "unix:///var/run/docker.sock"
API_TIMEOUT = 60.0


@dataclass(frozen=True)
class DaemonAddress:
    host: str
    source: str
    tls_verify: bool = False
    cert_path: str = ""

    @property
    def native(self) -> bool:
        """True when this module can talk to it without docker-py."""
        return self.host.startswith(("unix://", "tcp://", "http://", "https://"))


def resolve_address(env: Mapping[str, str]) -> DaemonAddress:
    """pack's rule (cmd/cmd.go, pkg/client/docker_context.go)."""
    tls_verify = bool(env.get("DOCKER_TLS_VERIFY"))
    cert_path = env.get("DOCKER_CERT_PATH") or ""
    if env.get("DOCKER_HOST"):
        return DaemonAddress(env["DOCKER_HOST"], "DOCKER_HOST", tls_verify, cert_path)
    context_host = _context_host(env)
    if context_host:
        return DaemonAddress(context_host[1], f"docker context {context_host[0]!r}", tls_verify, cert_path)
    return DaemonAddress(DEFAULT_HOST, "default socket", tls_verify, cert_path)


def docker_config_dir(env: Mapping[str, str]) -> Path:
    if env.get("DOCKER_CONFIG"):
        return Path(env["DOCKER_CONFIG"])
    return Path.home() / ".docker"


def _context_host(env: Mapping[str, str]) -> tuple[str, str] | None:
    config_dir = docker_config_dir(env)
    try:
        config = json.loads((config_dir / "config.json").read_text(encoding="utf-8"))
        name = config.get("currentContext", "") if isinstance(config, dict) else ""
        if not name or name == "default":
            return None
        import hashlib

        digest = hashlib.sha256(name.encode()).hexdigest()
        meta_path = config_dir / "contexts" / "meta" / digest / "meta.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        host = meta["Endpoints"]["docker"]["Host"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (name, host) if isinstance(host, str) and host else None


class DaemonUnavailable(PpackError):
    def __init__(self, address: DaemonAddress, reason: str) -> None:
        super().__init__(
            f"cannot connect to the Docker daemon at {address.host} ({address.source}): {reason}. "
            "Is the docker daemon running?"
        )


class _HTTPTransport:
    """TCP and TLS daemons: http.client is fine here, imported only for them."""

    def __init__(self, address: DaemonAddress, timeout: float) -> None:
        import http.client

        parts = urlsplit(address.host)
        host = parts.hostname or "localhost"
        self._errors = (http.client.HTTPException,)
        if parts.scheme == "https" or address.tls_verify or address.cert_path:
            context = _tls_context(address)
            self._connection: Any = http.client.HTTPSConnection(
                host, parts.port or 2376, timeout=timeout, context=context
            )
        else:
            self._connection = http.client.HTTPConnection(host, parts.port or 2375, timeout=timeout)

    def request(self, method: str, path: str) -> tuple[int, bytes]:
        try:
            self._connection.request(method, path, headers={"Host": "docker"})
            response = self._connection.getresponse()
            return int(response.status), bytes(response.read())
        except self._errors as error:
            raise ConnectionError(str(error) or type(error).__name__) from None

    def close(self) -> None:
        self._connection.close()


class Engine:
    """Read-only Engine API calls ppack needs on every run: info, inspect, tag."""

    def __init__(self, address: DaemonAddress, timeout: float = API_TIMEOUT) -> None:
        self.address = address
        self._timeout = timeout
        self._connection: Any = None
        self._fallback: Any = None
        # Pull threads inspect what they pulled; one connection, one request at a time.
        self._lock = threading.Lock()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def daemon_id(self) -> str:
        """What keys this daemon's records in the pull log: stable for as long as its images are."""
        info = self._get_json("/info")
        if isinstance(info, dict) and "BuildahVersion" in info:
            # Podman's Docker API answers a new random ID on every call; its host name and
            # storage root name the image store instead (rootful and rootless stores differ).
            return f"podman:{info.get('Name', '')}:{info.get('DockerRootDir', '')}"
        if not isinstance(info, dict) or not info.get("ID"):
            raise DaemonUnavailable(self.address, "the daemon did not report an ID")
        return str(info["ID"])

    def inspect_image(self, name: str) -> dict[str, Any] | None:
        """The image's inspect document, or None when the daemon does not have it."""
        found = self._get_json(f"/images/{quote(name, safe='/:@')}/json", allow_404=True)
        return found if isinstance(found, dict) else None

    def tag(self, source: str, target: str) -> None:
        """Give ``source`` a second name, so pack finds it under the name it looks for."""
        repo, tag = _split_for_tag(target)
        path = (
            f"/images/{quote(source, safe='/:@')}/tag?repo={quote(repo, safe='')}&tag={quote(tag, safe='')}"
        )
        self._request("POST", path)

    def _get_json(self, path: str, *, allow_404: bool = False) -> Any:
        status, body = self._request("GET", path, allow_404=allow_404)
        if status == 404:
            return None
        try:
            return json.loads(body)
        except ValueError:
            # The daemon is there, so "is it running?" would mislead: say what it answered.
            raise PpackError(
                f"Docker daemon at {self.address.host}: GET {path}: not a JSON answer: {_snippet(body)}"
            ) from None

    def _request(self, method: str, path: str, *, allow_404: bool = False) -> tuple[int, bytes]:
        try:
            with self._lock:
                status, body = self._send(method, path)
        except OSError as error:
            self.close()
            raise DaemonUnavailable(self.address, _describe(error)) from None
        if status == 404 and allow_404:
            return status, body
        if status >= 400:
            message = _error_message(body) or f"HTTP {status}"
            raise PpackError(
                f"Docker daemon at {self.address.host}: {method} {path.split('?', maxsplit=1)[0]}: {message}"
            )
        return status, body

    def _send(self, method: str, path: str) -> tuple[int, bytes]:
        if not self.address.native:
            return self._send_with_docker_py(method, path)
        # One retry: a kept-alive connection may have been closed by the daemon.
        for attempt in (1, 2):
            connection = self._connect()
            try:
                status, body = connection.request(method, path)
                return int(status), bytes(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _connect(self) -> Any:
        if self._connection is None:
            self._connection = _open(self.address, self._timeout)
        return self._connection

    def _send_with_docker_py(self, method: str, path: str) -> tuple[int, bytes]:
        if self._fallback is None:
            from ppack.puller import api_client

            self._fallback = api_client(self.address)
        url = self._fallback.base_url + path
        response = self._fallback.request(method, url, timeout=self._timeout)
        return int(response.status_code), bytes(response.content)


def _open(address: DaemonAddress, timeout: float) -> Any:
    parts = urlsplit(address.host)
    if parts.scheme == "unix":
        from ppack.wire import UnixHTTP

        return UnixHTTP(parts.path, timeout)
    return _HTTPTransport(address, timeout)


def _tls_context(address: DaemonAddress) -> Any:
    import ssl

    cert_dir = Path(address.cert_path or Path.home() / ".docker")
    context = ssl.create_default_context(cafile=str(cert_dir / "ca.pem") if address.tls_verify else None)
    if not address.tls_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if (cert_dir / "cert.pem").exists():
        context.load_cert_chain(str(cert_dir / "cert.pem"), str(cert_dir / "key.pem"))
    return context


def _split_for_tag(name: str) -> tuple[str, str]:
    head, sep, tail = name.rpartition(":")
    if sep and "/" not in tail:
        return head, tail
    return name, "latest"


def _snippet(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip().splitlines()
    return (text[0][:120] if text else "(empty)").strip() or "(empty)"


def _error_message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()
    return str(data.get("message", "")) if isinstance(data, dict) else ""


def _describe(error: BaseException) -> str:
    if isinstance(error, FileNotFoundError):
        return "no such socket"
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, TimeoutError | socket.timeout):
        return "timed out"
    return (
        os.strerror(error.errno)
        if isinstance(error, OSError) and error.errno
        else str(error) or type(error).__name__
    )
