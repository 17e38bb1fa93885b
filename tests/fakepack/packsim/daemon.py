"""The stand-in's view of the Docker daemon: pack's image fetcher, per pull policy."""

from __future__ import annotations

from typing import Any

from packsim.output import PackError, symbol
from packsim.refs import translate_registry


class Daemon:
    """Fetch and CheckReadAccess as pkg/image/fetcher.go does them, recording every read."""

    def __init__(self, host: str, policy: str, mirrors: dict[str, str] | None) -> None:
        import docker

        self._docker = docker
        self.api = docker.APIClient(base_url=host, version="auto", timeout=120)
        self.policy = policy
        self.mirrors = mirrors
        self.read: list[str] = []

    def inspect(self, name: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.api.inspect_image(name)
        except self._docker.errors.NotFound:
            return None
        return found

    def fetch(self, name: str, platform: str = "") -> dict[str, Any]:
        """``Fetch(name, {Daemon: true})``: translate, then per policy look or pull."""
        name, _ = translate_registry(name, self.mirrors)
        if self.policy in ("always", "") or (self.policy == "if-not-present" and self.inspect(name) is None):
            self._pull(name, platform)
        found = self.inspect(name)
        if found is None:
            raise PackError(f"image {symbol(name)} does not exist on the daemon: not found")
        self.read.append(name)
        return found

    def fetch_for_platform(self, name: str, platform: str = "") -> dict[str, Any]:
        """``FetchForPlatform``: with a target, the name is translated here *and* again in Fetch.

        Under ``never`` pack skips the digest resolution and calls ``Fetch`` with the
        already-translated name, which translates it once more (pkg/image/fetcher.go:248-274):
        a ``*`` mirror with a path (``host/proxy``) is applied twice.
        """
        if platform:
            name, _ = translate_registry(name, self.mirrors)
        return self.fetch(name, platform)

    def has_read_access(self, name: str) -> bool:
        """``CheckReadAccess``: untranslated; under never, presence in the daemon only."""
        if self.policy == "never":
            return self.inspect(name) is not None
        return True  # the stand-in has no registry client: every candidate counts as readable

    def _pull(self, name: str, platform: str) -> None:
        repository, tag = _split(name)
        for message in self.api.pull(
            repository, tag=tag, stream=True, decode=True, platform=platform or None
        ):
            detail = message.get("errorDetail") or {}
            if detail or message.get("error"):
                raise PackError(str(detail.get("message") or message.get("error")))


def _split(name: str) -> tuple[str, str]:
    if "@" in name:
        repository, digest = name.split("@", 1)
        return repository, digest
    head, sep, tail = name.rpartition(":")
    if sep and "/" not in tail:
        return head, tail
    return name, "latest"
