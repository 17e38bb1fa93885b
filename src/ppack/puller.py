"""
Pulling through docker-py's low-level streaming API, several images at once.

``APIClient.pull`` reports failures in-band (HTTP 200 with an ``errorDetail``
message), so every message is checked. Pulls have no read timeout in
docker-py; a watchdog closes a pull's connection when the daemon sends
nothing for ``stall_timeout`` seconds, so a dead network cannot hang a build.
docker-py is imported here and only here, only when something is due.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ppack.daemon import DaemonAddress
from ppack.messages import PpackError
from ppack.progress import Progress, _Image, human_bytes, track


_NOT_FOUND_HINTS = (
    "manifest unknown",
    "not found",
    "repository does not exist",
    "pull access denied",
    "no such image",
    "invalid reference format",
    "name unknown",
)


class PullFailed(Exception):
    """A pull that did not complete; ``missing`` means the registry says it does not exist."""

    def __init__(self, image: str, reason: str, *, missing: bool) -> None:
        super().__init__(reason)
        self.image = image
        self.reason = reason
        self.missing = missing


def classify_failure(message: str) -> bool:
    """True when the registry says the image does not exist (retrying cannot help)."""
    lowered = message.lower()
    transient = ("toomanyrequests", "429", "timeout", "timed out", "connection refused", "no such host")
    if any(hint in lowered for hint in transient):
        return False
    return any(hint in lowered for hint in _NOT_FOUND_HINTS)


def api_client(address: DaemonAddress, version: str | None = None) -> Any:
    import docker
    from docker.utils import kwargs_from_env

    environment = {"DOCKER_HOST": address.host}
    if address.tls_verify:
        environment["DOCKER_TLS_VERIFY"] = "1"
    if address.cert_path:
        environment["DOCKER_CERT_PATH"] = address.cert_path
    kwargs = kwargs_from_env(environment=environment)
    # ssh://: the system ssh, as the docker CLI uses it (~/.ssh/config, agents, known_hosts).
    use_ssh_client = address.host.startswith("ssh://")
    try:
        return docker.APIClient(version=version or "auto", use_ssh_client=use_ssh_client, **kwargs)
    except docker.errors.DockerException as error:
        from ppack.daemon import DaemonUnavailable

        reason = str(error).splitlines()[0]
        if "paramiko" in reason:
            raise PpackError(
                f"DOCKER_HOST {address.host} needs docker-py's ssh support, which is not installed: "
                "pip install 'ppack[ssh]' (or pipx inject ppack paramiko)"
            ) from None
        raise DaemonUnavailable(address, reason) from None


@dataclass(frozen=True)
class PullRequest:
    name: str
    display: str
    reason: str
    platform: str = ""
    via_pack: bool = False
    pack_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class PullOutcome:
    request: PullRequest
    error: PullFailed | None = None


class Puller:
    """Runs pulls (the caller decides how many at once), reporting progress as they go."""

    def __init__(
        self,
        address: DaemonAddress,
        progress: Progress,
        *,
        stall_timeout: float,
        pack: Callable[[], str],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._address = address
        self._progress = progress
        self._stall_timeout = stall_timeout
        self._pack = pack
        self._clock = clock
        self._version: str | None = None
        self._version_lock = threading.Lock()

    def pull(self, request: PullRequest) -> None:
        """Pull one image; raises PullFailed."""
        self._progress.started(request.display, request.reason)
        started = self._clock()
        try:
            tally = self._pack_pull(request) if request.via_pack else self._docker_pull(request)
        except PullFailed:
            self._progress.failed(request.display)
            raise
        elapsed = self._clock() - started
        size = f"{human_bytes(tally.downloaded())} in " if tally.downloaded() else ""
        if tally.up_to_date:
            size = "already up to date, "
        self._progress.finished(request.display, f"Pulled {request.display} ({size}{elapsed:.1f} s)")

    def _client(self) -> Any:
        with self._version_lock:
            client = api_client(self._address, self._version)
            self._version = client.api_version
            return client

    def _docker_pull(self, request: PullRequest) -> _Image:
        client = self._client()
        _with_read_timeout(client, self._stall_timeout)
        tally = _Image(request.reason, self._clock())
        try:
            repository, tag = _split(request.name)
            stream = client.pull(
                repository, tag=tag, stream=True, decode=True, platform=request.platform or None
            )
            for message in stream:
                _raise_in_band(request.name, message)
                track(tally, message)
                self._progress.event(request.display, message)
        except PullFailed:
            raise
        except Exception as error:
            raise _as_failure(request.name, error, self._stall_timeout) from None
        finally:
            client.close()
        return tally

    def _pack_pull(self, request: PullRequest) -> _Image:
        """Registry buildpacks: pack resolves the locator through its registry index."""
        import subprocess

        try:
            done = subprocess.run(
                [self._pack(), "buildpack", "pull", request.name, *request.pack_args],
                capture_output=True,
                text=True,
                timeout=self._stall_timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PullFailed(
                request.name, f"timed out after {self._stall_timeout:.0f} s", missing=False
            ) from None
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines() or [f"exit code {done.returncode}"]
            reason = lines[-1].removeprefix("ERROR: ")
            raise PullFailed(request.name, reason, missing=classify_failure(reason))
        return _Image(request.reason, self._clock())


def _split(name: str) -> tuple[str, str | None]:
    if "@" in name:
        repository, digest = name.split("@", 1)
        return repository, digest
    head, sep, tail = name.rpartition(":")
    if sep and "/" not in tail:
        return head, tail
    return name, "latest"


def _raise_in_band(name: str, message: dict[str, Any]) -> None:
    detail = message.get("errorDetail")
    if detail or message.get("error"):
        text = str((detail or {}).get("message") or message.get("error") or "unknown error")
        raise PullFailed(name, text, missing=classify_failure(text))


def _as_failure(name: str, error: Exception, timeout: float) -> PullFailed:
    if "timed out" in str(error).lower():
        return PullFailed(name, f"no progress for {timeout:.0f} s", missing=False)
    status = getattr(getattr(error, "response", None), "status_code", None)
    explanation = getattr(error, "explanation", None) or str(error)
    text = str(explanation).splitlines()[0] if str(explanation) else type(error).__name__
    missing = status == 404 or (status is None and classify_failure(text))
    if status is not None and status >= 500:
        missing = classify_failure(text) and "timeout" not in text.lower()
    return PullFailed(name, text, missing=missing)


def _with_read_timeout(client: Any, seconds: float) -> None:
    """
    docker-py sends pulls with ``timeout=None`` (wait forever); give the pull a
    read timeout instead, which fires when the daemon sends nothing for that long.
    """
    post = client._post

    def post_with_timeout(url: str, **kwargs: Any) -> Any:
        if kwargs.get("timeout", 0) is None:
            kwargs["timeout"] = seconds
        return post(url, **kwargs)

    client._post = post_with_timeout
