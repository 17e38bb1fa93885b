"""Image names as go-containerregistry v0.21.5 parses them, and pack's name helpers.

``parse_reference(x).name()`` is ggcr's ``ParseReference(x, WeakValidation).Name()``:
``heroku/builder:24`` -> ``index.docker.io/heroku/builder:24``, ``ubuntu`` ->
``index.docker.io/library/ubuntu:latest``. Also pack's ``TranslateRegistry`` (registry
mirrors) and Masterminds/semver v1 versions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


DEFAULT_REGISTRY = "index.docker.io"
DEFAULT_TAG = "latest"

_TAG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-.ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_REPOSITORY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-./")
_SHA256_HEX = re.compile(r"[a-f0-9]{64}")


class BadName(ValueError):
    """ggcr's ErrBadName."""


@dataclass(frozen=True)
class Reference:
    registry: str
    repository: str  # as written, without the implicit ``library/``
    tag: str = ""
    digest: str = ""

    @property
    def repository_str(self) -> str:
        if "/" not in self.repository and self.registry == DEFAULT_REGISTRY:
            return f"library/{self.repository}"
        return self.repository

    @property
    def context_name(self) -> str:
        return f"{self.registry}/{self.repository_str}"

    @property
    def identifier(self) -> str:
        return self.digest or self.tag

    @property
    def is_digest(self) -> bool:
        return bool(self.digest)

    def name(self) -> str:
        if self.digest:
            return f"{self.context_name}@{self.digest}"
        return f"{self.context_name}:{self.tag}"


def parse_reference(text: str, default_tag: str = DEFAULT_TAG) -> Reference:
    try:
        return new_tag(text, default_tag)
    except BadName:
        pass
    try:
        return new_digest(text)
    except BadName:
        raise BadName(f"could not parse reference: {text}") from None


def new_tag(text: str, default_tag: str = DEFAULT_TAG) -> Reference:
    base, tag = text, ""
    parts = text.split(":")
    # A last part with a "/" is a registry port, not a tag.
    if len(parts) > 1 and "/" not in parts[-1]:
        base, tag = ":".join(parts[:-1]), parts[-1]
        if not tag:
            raise BadName(f"{text} must specify a tag name after the colon")
    if tag:
        _check("tag", tag, _TAG_CHARS, 1, 128)
    registry, repository = _new_repository(base)
    return Reference(registry, repository, tag=tag or default_tag)


def new_digest(text: str) -> Reference:
    parts = text.split("@")
    if len(parts) != 2:
        raise BadName(
            f"a digest must contain exactly one '@' separator (e.g. registry/repository@digest) saw: {text}"
        )
    base, digest = parts
    if not digest.startswith("sha256:"):
        raise BadName(f"unsupported digest algorithm: {digest}")
    if not _SHA256_HEX.fullmatch(digest.removeprefix("sha256:")):
        raise BadName("invalid checksum digest format")
    try:
        base = new_tag(base).context_name  # a tag next to the digest is dropped
    except BadName:
        pass
    registry, repository = _new_repository(base)
    return Reference(registry, repository, digest=digest)


def _new_repository(text: str) -> tuple[str, str]:
    if not text:
        raise BadName("a repository name must be specified")
    registry, repository = "", text
    first, slash, rest = text.partition("/")
    # v0.21.5: only "." or ":" make the first part a registry ("localhost/x" is a path).
    if slash and ("." in first or ":" in first):
        registry, repository = first, rest
    _check("repository", repository, _REPOSITORY_CHARS, 2, 255)
    _check_registry(registry)
    if registry in ("", "docker.io"):
        registry = DEFAULT_REGISTRY
    return registry, repository


def _check(what: str, value: str, allowed: frozenset[str], low: int, high: int) -> None:
    if not low <= len(value) <= high:
        raise BadName(f"{what} must be between {low} and {high} characters in length: {value}")
    if not set(value) <= allowed:
        raise BadName(f"{what} can only contain the characters `{''.join(sorted(allowed))}`: {value}")


def _check_registry(registry: str) -> None:
    """Go's ``url.Parse("//" + name).Host == name``, for the shapes that matter."""
    # "@" starts userinfo, "?" and "#" end the authority: Host would then differ.
    bad = any(char in registry for char in "@?#%\\ \t\n")
    host = registry.rsplit("]", 1)[-1] if registry.startswith("[") else registry
    if ":" in host:
        port = host[host.rindex(":") + 1 :]
        bad = bad or not (port == "" or port.isdigit())
    if bad:
        raise BadName(f"registries must be valid RFC 3986 URI authorities: {registry}")


def translate_registry(name: str, mirrors: dict[str, str] | None) -> tuple[str, bool]:
    """pack's TranslateRegistry: (new name, whether a mirror applied).

    ``*`` wins over every registry; Docker Hub's key is ``index.docker.io``; the output
    always carries the identifier (``<mirror>/library/ubuntu:latest``).
    """
    if mirrors is None:
        return name, False
    ref = parse_reference(name)
    mirror = mirrors.get("*", mirrors.get(ref.registry))
    if mirror is None:
        return name, False
    separator = "@" if ":" in ref.identifier else ":"
    translated = f"{mirror}/{ref.repository_str}{separator}{ref.identifier}"
    parse_reference(translated)
    return translated, True


# --------------------------------------------------------------------------- semver

_SEMVER = re.compile(
    r"v?(?P<major>[0-9]+)(?:\.(?P<minor>[0-9]+))?(?:\.(?P<patch>[0-9]+))?"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+(?P<meta>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)


@dataclass(frozen=True)
class SemVer:
    """Masterminds/semver v1.5: ``0.20`` and ``v0.20.0`` are both ``0.20.0``."""

    major: int
    minor: int
    patch: int
    pre: str = ""
    meta: str = ""

    @classmethod
    def parse(cls, text: str) -> SemVer:
        match = _SEMVER.fullmatch(text)
        if match is None:
            raise ValueError(f"invalid semantic version {text}")
        return cls(
            int(match["major"]),
            int(match["minor"] or 0),
            int(match["patch"] or 0),
            match["pre"] or "",
            match["meta"] or "",
        )

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            text += f"-{self.pre}"
        if self.meta:
            text += f"+{self.meta}"
        return text

    def compare(self, other: SemVer) -> int:
        mine = (self.major, self.minor, self.patch)
        theirs = (other.major, other.minor, other.patch)
        if mine != theirs:
            return -1 if mine < theirs else 1
        return _compare_pre(self.pre, other.pre)


def _compare_pre(left: str, right: str) -> int:
    if left == right:
        return 0
    if not left or not right:
        return 1 if not left else -1  # a release ranks above its pre-releases
    for a, b in zip(left.split("."), right.split("."), strict=False):
        if a == b:
            continue
        if a.isdigit() and b.isdigit():
            return -1 if int(a) < int(b) else 1
        if a.isdigit() != b.isdigit():
            return -1 if a.isdigit() else 1
        return -1 if a < b else 1
    return -1 if len(left.split(".")) < len(right.split(".")) else 1
