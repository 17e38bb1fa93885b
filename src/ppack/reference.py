"""
Image names as pack computes them, and as Docker keys them.

pack normalises names with go-containerregistry (``heroku/builder:24`` →
``index.docker.io/heroku/builder:24``) and then applies ``[registry-mirrors]``;
the daemon, and so ppack's pull log, key images by Docker's canonical form
(``docker.io/heroku/builder:24``). Both are derived from one parse here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass


GGCR_HUB = "index.docker.io"
DOCKER_HUB = "docker.io"

_REPO_CHARS = re.compile(r"[a-z0-9_.\-/]+")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class ReferenceError(ValueError):
    """Not an image reference pack would accept."""


@dataclass(frozen=True)
class ImageRef:
    """One parsed reference; ``registry`` is empty when none was written."""

    registry: str
    repository: str
    tag: str
    digest: str
    tag_given: bool = True

    @property
    def registry_str(self) -> str:
        """go-containerregistry's ``RegistryStr()``: Docker Hub is ``index.docker.io``."""
        if self.registry in ("", DOCKER_HUB):
            return GGCR_HUB
        return self.registry

    @property
    def repository_str(self) -> str:
        """The path without the registry; official Hub images gain ``library/``."""
        if self.registry_str == GGCR_HUB and "/" not in self.repository:
            return f"library/{self.repository}"
        return self.repository

    @property
    def identifier(self) -> str:
        return f"@{self.digest}" if self.digest else f":{self.tag}"

    def ggcr_name(self) -> str:
        """What pack passes to the daemon: ``ParseReference(x, WeakValidation).Name()``."""
        return f"{self.registry_str}/{self.repository_str}{self.identifier}"

    def docker_name(self) -> str:
        """Docker's canonical form, the pull log's key (``docker.io/library/ubuntu:latest``)."""
        registry = DOCKER_HUB if self.registry_str == GGCR_HUB else self.registry_str
        return f"{registry}/{self.repository_str}{self.identifier}"


def parse(name: str) -> ImageRef:
    """Parse like go-containerregistry with WeakValidation; raises ReferenceError."""
    if not name or not name.isprintable() or any(c.isspace() for c in name):
        raise ReferenceError(f"invalid image reference {name!r}")
    base, at, digest = name.partition("@")
    if at and not _DIGEST.fullmatch(digest):
        raise ReferenceError(f"invalid digest in image reference {name!r}")
    base, tag, tag_given = _split_tag(base)
    registry, repository = _split_registry(base)
    if not _REPO_CHARS.fullmatch(repository) or repository.startswith("/"):
        raise ReferenceError(
            f"invalid image reference {name!r}: repository can only contain "
            "lower case letters, digits and _-./"
        )
    if not 2 <= len(repository) <= 255:  # go-containerregistry's checkRepository
        raise ReferenceError(
            f"invalid image reference {name!r}: repository must be between 2 and 255 characters long"
        )
    if not _TAG.fullmatch(tag):
        raise ReferenceError(f"invalid tag in image reference {name!r}")
    return ImageRef(registry, repository, "" if digest else tag, digest, tag_given or bool(digest))


def _split_tag(base: str) -> tuple[str, str, bool]:
    head, sep, tail = base.rpartition(":")
    # A colon followed by a slash belongs to a registry port, not a tag.
    if sep and "/" not in tail:
        return head, tail, True
    return base, "latest", False


def _split_registry(base: str) -> tuple[str, str]:
    first, sep, rest = base.partition("/")
    if sep and ("." in first or ":" in first):
        return first, rest
    return "", base


def normalize(name: str) -> str:
    """``heroku/builder:24`` → ``index.docker.io/heroku/builder:24``, as pack does."""
    return parse(name).ggcr_name()


def canonical(name: str) -> str:
    """The pull-log key: ``ubuntu`` and ``docker.io/library/ubuntu:latest`` are one image."""
    return parse(name).docker_name()


def registry_of(name: str) -> str:
    return parse(name).registry_str


def translate(name: str, mirrors: Mapping[str, str]) -> str:
    """pack's TranslateRegistry: ``*`` wins, else the entry for the name's registry."""
    if not mirrors:
        return name
    ref = parse(name)
    mirror = mirrors.get("*") or mirrors.get(ref.registry_str)
    if not mirror:
        return name
    return f"{mirror}/{ref.repository_str}{ref.identifier}"


def familiar(name: str) -> str:
    """The short form people type: ``index.docker.io/library/ubuntu:latest`` → ``ubuntu:latest``."""
    for prefix in ("index.docker.io/", "docker.io/"):
        if name.startswith(prefix):
            path = name.removeprefix(prefix)
            official = path.removeprefix("library/")
            # Only official images lose library/: library/a/b stays as it is, as in Docker.
            return official if "/" not in official else path
    return name
