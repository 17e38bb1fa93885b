"""``pack build``'s image reads (pkg/client/build.go, v0.40.5), without building.

The order is pack's: builder, run image, buildpacks and extensions, lifecycle image,
then the extensions check. Under ``never`` the first image missing from the daemon
ends the build with pack's own error text.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from packsim.config import PackConfig
from packsim.daemon import Daemon
from packsim.flags import Parsed
from packsim.locators import Locator, ModuleInfo, locator_type, package_image, resolve_registry_buildpack
from packsim.output import PackError, symbol, wrapped
from packsim.project import Descriptor, ProjectBuildpack
from packsim.refs import BadName, SemVer, parse_reference, translate_registry


KNOWN_TRUSTED = (
    "gcr.io/buildpacks/builder:google-22",
    "heroku/builder:26",
    "heroku/builder:24",
    "heroku/builder:22",
    "heroku/builder:20",
    "paketobuildpacks/builder-jammy-base",
    "paketobuildpacks/builder-jammy-full",
    "paketobuildpacks/builder-jammy-tiny",
    "paketobuildpacks/builder-jammy-buildpackless-static",
    "paketobuildpacks/ubuntu-noble-builder",
    "paketobuildpacks/builder-ubi8-base",
    "paketobuildpacks/ubi-9-builder",
    "paketobuildpacks/ubi-10-builder",
)
LIFECYCLE_REPO = "docker.io/buildpacksio/lifecycle"


@dataclass
class Request:
    app_image: str
    builder: str
    publish: bool
    run_image: str
    lifecycle_image: str
    trust_builder: bool
    trust_extra: bool
    platform: str
    buildpacks: list[str]
    buildpack_base: str
    pre: list[str]
    post: list[str]
    extensions: list[str]
    descriptor: Descriptor = field(default_factory=Descriptor)


def trusted(builder: str, config: PackConfig, flag: bool) -> bool:
    """internal/commands/build.go:120-124 with internal/builder/trusted_builder.go."""
    if flag or builder in KNOWN_TRUSTED:
        return True
    for entry in config.trusted_builders:
        try:
            wanted = parse_reference(entry, default_tag="")
            actual = parse_reference(builder, default_tag="")
        except BadName:
            continue
        if wanted.identifier:
            if wanted.name() == actual.name() and actual.identifier:
                return True
        elif wanted.repository_str == actual.repository_str:
            return True
    return False


def build(request: Request, config: PackConfig, daemon: Daemon) -> None:
    builder_name = parse_reference(request.builder).name()
    with wrapped(f"failed to fetch builder image {symbol(builder_name)}"):
        builder = daemon.fetch(builder_name, request.platform)
    labels = (builder.get("Config") or {}).get("Labels") or {}
    metadata = _metadata(builder_name, labels)
    target = request.platform or "/".join(p for p in (builder.get("Os"), builder.get("Architecture")) if p)
    if not request.publish:
        _run_image(request, config, daemon, metadata, target)
    modules = [
        ModuleInfo(str(bp.get("id", "")), str(bp.get("version", "")))
        for bp in metadata.get("buildpacks") or []
    ]
    extra = _buildpacks(request, daemon, modules, target)
    for extension in request.extensions:
        _fetch_module(
            extension, request.buildpack_base, daemon, modules, target, request.publish, "extension"
        )
    _lifecycle(request, config, daemon, metadata, extra, target)
    order_extensions = json.loads(labels.get("io.buildpacks.buildpack.order-extensions") or "[]")
    if (order_extensions or request.extensions) and daemon.policy != "always":
        raise PackError("pull policy must be 'always' when builder contains image extensions")


def _metadata(name: str, labels: dict[str, str]) -> dict[str, Any]:
    raw = labels.get("io.buildpacks.builder.metadata")
    if raw is None:
        raise PackError(
            f"builder {symbol(name)} missing label 'io.buildpacks.builder.metadata' -- try recreating builder"
        )
    try:
        metadata: dict[str, Any] = json.loads(raw)
    except ValueError as error:
        raise PackError(f"failed to parse metadata for builder {symbol(name)}: {error}") from None
    return metadata


def _run_image(
    request: Request, config: PackConfig, daemon: Daemon, metadata: dict[str, Any], target: str
) -> None:
    name = request.run_image or _select_run_image(request, config, daemon, metadata)
    if not name:
        raise PackError("invalid run-image '': run image must be specified")
    with wrapped(f"invalid run-image {symbol(name)}"):
        daemon.fetch(name, target)


def _select_run_image(request: Request, config: PackConfig, daemon: Daemon, metadata: dict[str, Any]) -> str:
    """pkg/client/common.go getBestRunMirror, with the builder's registry preferred."""
    entries = list(metadata.get("images") or []) + [(metadata.get("stack") or {}).get("runImage") or {}]
    default = entries[0] or {}
    image = str(default.get("image") or "")
    candidates = [*config.run_image_mirrors.get(image, []), image, *(default.get("mirrors") or [])]
    preferred = parse_reference((request.publish and request.app_image) or request.builder).registry
    readable = [c for c in candidates if c and daemon.has_read_access(c)]
    for candidate in readable:
        try:
            if parse_reference(candidate).registry == preferred:
                return candidate
        except BadName:
            continue
    return readable[0] if readable else image


def _buildpacks(request: Request, daemon: Daemon, modules: list[ModuleInfo], target: str) -> int:
    extra = 0
    for locator in request.buildpacks:
        extra += _fetch_module(
            locator, request.buildpack_base, daemon, modules, target, request.publish, "buildpack"
        )
    if not request.buildpacks:
        for locator in request.pre + request.post:
            extra += _fetch_module(
                locator, os.getcwd(), daemon, modules, target, request.publish, "buildpack"
            )
    return extra


def _fetch_module(
    locator: str, base: str, daemon: Daemon, modules: list[ModuleInfo], target: str, publish: bool, kind: str
) -> int:
    """One module; returns 1 when it counts as an extra (non-builder) module."""
    if locator.startswith("inline:"):
        return 0
    found = locator_type(locator, base, modules)
    if found in (Locator.FROM_BUILDER, Locator.ID):
        return 0
    if found is Locator.INVALID:
        raise PackError(f"invalid locator: {locator}")
    if found is Locator.URI:
        path = locator if os.path.isabs(locator) else os.path.join(base, locator)
        _package_toml(path, daemon, target, publish)
        return 1
    image = resolve_registry_buildpack(locator) if found is Locator.REGISTRY else package_image(locator)
    if not publish:
        with (
            wrapped(f"downloading {kind}: extracting from registry {symbol(locator)}"),
            wrapped("fetching image"),
        ):
            daemon.fetch(image, target)
    return 1


def _package_toml(folder: str, daemon: Daemon, target: str, publish: bool) -> None:
    import tomllib

    path = os.path.join(folder, "package.toml")
    if not os.path.isfile(path):
        return
    with open(path, "rb") as file:
        data = tomllib.load(file)
    for dependency in data.get("dependencies") or []:
        uri = str(dependency.get("uri") or "")
        if uri:
            _fetch_module(uri, folder, daemon, [], target, publish, "buildpack")


def _lifecycle(
    request: Request, config: PackConfig, daemon: Daemon, metadata: dict[str, Any], extra: int, target: str
) -> None:
    version = SemVer.parse(str((metadata.get("lifecycle") or {}).get("version") or "0.0.0"))
    numbers = (version.major, version.minor, version.patch)
    is_trusted = trusted(request.builder, config, request.trust_builder)
    use_creator = numbers >= (0, 7, 4) and is_trusted and not request.extensions
    if extra and not request.trust_extra:
        use_creator = False
    supports_image = numbers == (0, 6, 1) or numbers >= (0, 7, 5)
    if use_creator:
        return
    if not supports_image:
        if not is_trusted:
            raise PackError(
                f"Lifecycle {version} does not have an associated lifecycle image. Builder must be trusted."
            )
        return
    name = (
        parse_reference(request.lifecycle_image).name()
        if request.lifecycle_image
        else f"{LIFECYCLE_REPO}:{version}"
    )
    with wrapped("fetching lifecycle image"):
        daemon.fetch(name, target)


def request_from(parsed: Parsed, config: PackConfig, descriptor: Descriptor, descriptor_path: str) -> Request:
    builder = (
        parsed.string("builder")
        if parsed.was_set("builder")
        else descriptor.builder or config.default_builder
    )
    base = os.path.dirname(descriptor_path) if descriptor_path else os.getcwd()
    flag_buildpacks = parsed.strings("buildpack")
    return Request(
        app_image=parsed.args[0],
        builder=builder,
        publish=parsed.flag("publish"),
        run_image=parsed.string("run-image"),
        lifecycle_image=parsed.string("lifecycle-image") or config.lifecycle_image,
        trust_builder=parsed.flag("trust-builder"),
        trust_extra=parsed.flag("trust-extra-buildpacks"),
        platform=parsed.string("platform"),
        buildpacks=flag_buildpacks or [_project_locator(bp) for bp in descriptor.buildpacks],
        buildpack_base=os.getcwd() if flag_buildpacks else base,
        pre=parsed.strings("pre-buildpack") or [_project_locator(bp) for bp in descriptor.pre],
        post=parsed.strings("post-buildpack") or [_project_locator(bp) for bp in descriptor.post],
        extensions=parsed.strings("extension"),
        descriptor=descriptor,
    )


def _project_locator(bp: ProjectBuildpack) -> str:
    """pkg/client/build.go:1415-1436: inline scripts, uris, id@version, id."""
    if bp.inline and not bp.uri:
        return f"inline:{bp.id}"
    if bp.uri:
        return bp.uri
    return f"{bp.id}@{bp.version}" if bp.version else bp.id


def translated(name: str, mirrors: dict[str, str] | None) -> str:
    return translate_registry(name, mirrors)[0]
