"""Buildpack locators (``-b`` values) classified as pack's GetLocatorType does.

Order matters and surprises: ``example/foo`` is a *registry* buildpack, not an image,
because the registry pattern is tried before image references; a naked string that
names an existing path is a local buildpack; one matching a builder buildpack id
(``id`` or ``id@version``) needs no fetch at all.
"""

from __future__ import annotations

import enum
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from packsim.output import PackError, symbol
from packsim.refs import BadName, SemVer, new_digest, parse_reference


class Locator(enum.Enum):
    INVALID = "InvalidLocator"
    FROM_BUILDER = "FromBuilderLocator"
    URI = "URILocator"
    ID = "IDLocator"
    PACKAGE = "PackageLocator"
    REGISTRY = "RegistryLocator"


@dataclass(frozen=True)
class ModuleInfo:
    id: str
    version: str = ""


_SEMVER = (
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_REGISTRY_ID = re.compile(r"[a-z0-9\-\.]+/[a-z0-9\-\.]+(?:@" + _SEMVER + r")?")
_URI = re.compile(r".+:/.*")

FROM_BUILDER = "from=builder"
_BUILDER_PREFIXES = ("urn:cnb:builder:", "from=builder:")
_REGISTRY_PREFIX = "urn:cnb:registry:"
_DOCKER_PREFIX = "docker:/"


def locator_type(locator: str, base_dir: str, builder_modules: Sequence[ModuleInfo]) -> Locator:
    if locator == FROM_BUILDER:
        return Locator.FROM_BUILDER
    if locator.startswith(_BUILDER_PREFIXES):
        if not _in_builder(locator, builder_modules):
            raise PackError(f"{symbol(locator)} is not a valid identifier")
        return Locator.ID
    if locator.startswith(_REGISTRY_PREFIX):
        return Locator.REGISTRY
    if _URI.match(locator):
        if locator.startswith(_DOCKER_PREFIX) and _is_reference(locator):
            return Locator.PACKAGE
        return Locator.URI
    return _naked(locator, base_dir, builder_modules)


def _naked(locator: str, base_dir: str, builder_modules: Sequence[ModuleInfo]) -> Locator:
    if _is_local_file(locator, base_dir):
        return Locator.URI
    if _in_builder(locator, builder_modules):
        return Locator.ID
    if _REGISTRY_ID.fullmatch(locator):
        return Locator.REGISTRY
    if _is_reference(locator):
        return Locator.PACKAGE
    return Locator.INVALID


def _is_local_file(locator: str, base_dir: str) -> bool:
    """isLocalFile: Go's filepath.Join drops empty elements, and os.Stat("") fails."""
    if not os.path.isabs(locator):
        locator = (
            os.path.normpath(os.path.join(*parts)) if (parts := [p for p in (base_dir, locator) if p]) else ""
        )
    return bool(locator) and os.path.exists(locator)


def _is_reference(text: str) -> bool:
    try:
        parse_reference(text)
    except BadName:
        return False
    return True


def parse_id_locator(locator: str) -> ModuleInfo:
    for prefix in ("from=builder:", "urn:cnb:builder:", _REGISTRY_PREFIX):
        locator = locator.removeprefix(prefix)
    parts = locator.split("@")
    return ModuleInfo(parts[0], parts[1] if len(parts) == 2 else "")


def _in_builder(locator: str, builder_modules: Sequence[ModuleInfo]) -> bool:
    wanted = parse_id_locator(locator)
    return any(
        wanted.id == module.id and wanted.version in ("", module.version) for module in builder_modules
    )


def package_image(locator: str) -> str:
    """The image name of a ``docker://``, ``docker:/`` or ``docker:`` locator."""
    for prefix in ("docker://", "docker:/", "docker:"):
        locator = locator.removeprefix(prefix)
    return locator


# --------------------------------------------------------------------------- registry


def resolve_registry_buildpack(locator: str) -> str:
    """The digest address of a registry buildpack, from the stand-in's fake index.

    ``FAKEPACK_REGISTRY_INDEX`` names a JSON file ``{"ns/name": {"1.2.3": "repo@sha256:…"}}``
    standing in for pack's git clone of buildpacks/registry-index.
    """
    namespace, name, version = _registry_id(locator)
    versions = _index().get(f"{namespace}/{name}")
    if not versions:
        raise PackError(f"reading entry: no entry for {namespace}/{name} in the index")
    if version:
        if version not in versions:
            raise PackError(f"could not find version for buildpack: {locator}")
        return _valid_address(versions[version])
    return _valid_address(versions[_highest(list(versions))])


def _registry_id(locator: str) -> tuple[str, str, str]:
    info = parse_id_locator(locator)
    parts = info.id.split("/")
    if len(parts) != 2:
        raise PackError(f"parsing buildpacks registry id: invalid registry ID: {locator}")
    return parts[0], parts[1], info.version


def _index() -> dict[str, dict[str, str]]:
    path = os.environ.get("FAKEPACK_REGISTRY_INDEX", "")
    if not path:
        raise PackError("refreshing cache: FAKEPACK_REGISTRY_INDEX is not set (the stand-in has no network)")
    try:
        with open(path, encoding="utf-8") as file:
            index: dict[str, dict[str, str]] = json.load(file)
    except (OSError, ValueError) as error:
        raise PackError(f"refreshing cache: {error}") from error
    return index


def _highest(versions: list[str]) -> str:
    def key(version: str) -> tuple[int, SemVer]:
        # golang.org/x/mod/semver ranks invalid versions below every valid one.
        try:
            return 1, SemVer.parse(version)
        except ValueError:
            return 0, SemVer(0, 0, 0)

    best = versions[0]
    for version in versions[1:]:
        mine, theirs = key(version), key(best)
        if mine[0] > theirs[0] or (mine[0] == theirs[0] and mine[1].compare(theirs[1]) > 0):
            best = version
    return best


def _valid_address(address: str) -> str:
    if not address:
        raise PackError("invalid entry: address is a required field")
    try:
        new_digest(address)
    except BadName:
        raise PackError(f"invalid entry: '{address}' is not a digest reference") from None
    return address
