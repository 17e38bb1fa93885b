"""``pack build``'s image reads (pkg/client/build.go, v0.40.5), without building.

The order is pack's: builder, run image, buildpacks, extensions, lifecycle image,
then the extensions check. Under ``never`` the first image missing from the daemon
ends the build with pack's own error text.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from packsim.config import PackConfig
from packsim.daemon import Daemon
from packsim.flags import Parsed
from packsim.locators import Locator, ModuleInfo, locator_type, package_image, resolve_registry_buildpack
from packsim.output import PackError, symbol, wrapped
from packsim.project import Descriptor, ProjectBuildpack
from packsim.refs import BadName, SemVer, parse_reference, translate_registry


# internal/builder/trusted_builder.go:17-109 (every entry has Trusted: true).
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
# internal/build/lifecycle_executor.go:24-38
SUPPORTED_PLATFORM_APIS = tuple(f"0.{minor}" for minor in range(3, 16))
MIN_CREATOR = SemVer(0, 7, 4)
MIN_LIFECYCLE_IMAGE = SemVer(0, 7, 5)
PREV_LIFECYCLE_IMAGE = SemVer(0, 6, 1)


@dataclass
class Request:
    app_image: str
    builder: str
    publish: bool
    run_image: str
    lifecycle_image: str  # already ParseReference(x).Name(), or ""
    trust_builder: bool
    platform: str
    buildpacks: list[str]
    buildpack_base: str  # RelativeBaseDir: "" (the CWD) for -b, the descriptor's folder for project.toml
    pre: list[str]
    post: list[str]
    extensions: list[str]
    trust_extra: bool = False
    descriptor: Descriptor = field(default_factory=Descriptor)


def trusted(builder: str, config: PackConfig, flag: bool) -> bool:
    """internal/commands/build.go:120-124 with internal/builder/trusted_builder.go.

    A builder or ``[[trusted-builders]]`` name that does not parse is pack's error.
    """
    try:
        actual = parse_reference(builder, default_tag="")
        entries = [parse_reference(entry, default_tag="") for entry in config.trusted_builders]
    except BadName as error:
        raise PackError(str(error)) from None
    in_config = False
    for wanted in entries:
        if wanted.identifier:
            in_config = wanted.name() == actual.name()
        else:
            in_config = wanted.repository_str == actual.repository_str
        if in_config:
            break
    return in_config or builder in KNOWN_TRUSTED or flag


@dataclass
class Builder:
    name: str
    metadata: dict[str, Any]
    labels: dict[str, str]
    lifecycle: SemVer
    target: str
    buildpacks: list[ModuleInfo]
    extensions: list[ModuleInfo]
    order: list[Any]
    order_extensions: list[Any]


def build(request: Request, config: PackConfig, daemon: Daemon) -> None:
    try:
        builder_name = parse_reference(request.builder).name()
    except BadName as error:
        raise PackError(f"invalid builder {symbol(request.builder)}: {error}") from None
    with wrapped(f"failed to fetch builder image {symbol(builder_name)}"):
        raw = daemon.fetch_for_platform(builder_name, request.platform)
    with wrapped(f"invalid builder {symbol(request.builder)}"):
        builder = _builder(daemon.read[-1], raw)
    target = request.platform or builder.target
    if request.publish:
        pass  # the run image is read from the registry (Daemon: false): the stand-in has none
    else:
        _run_image(request, config, daemon, builder, target)
    extra = _buildpacks(request, daemon, builder, target)
    fetched_extensions = _extensions(request, daemon, builder, target)
    _platform_apis(request, builder)
    _lifecycle(request, config, daemon, builder, extra, fetched_extensions, target)
    if builder.order_extensions or request.extensions:
        if target.split("/")[0] == "windows":
            raise PackError("builder contains image extensions which are not supported for Windows builds")
        if daemon.policy not in ("always", ""):
            raise PackError("pull policy must be 'always' when builder contains image extensions")


def _label_json(labels: dict[str, str], key: str, default: Any) -> Any:
    raw = labels.get(key)
    if not raw:
        return default
    try:
        return json.loads(raw)
    except ValueError as error:
        raise PackError(f"getting label {key}: {error}") from None


def _modules(entries: Any) -> list[ModuleInfo]:
    return [ModuleInfo(str(e.get("id", "")), str(e.get("version", ""))) for e in entries or []]


def _builder(name: str, image: dict[str, Any]) -> Builder:
    """builder.FromImage and getBuilder's checks (internal/builder/builder.go:142-259, build.go:948-969)."""
    config = image.get("Config") or {}
    labels = config.get("Labels") or {}
    if "io.buildpacks.builder.metadata" not in labels:
        raise PackError(
            f"builder {symbol(name)} missing label 'io.buildpacks.builder.metadata' -- try recreating builder"
        )
    metadata = _label_json(labels, "io.buildpacks.builder.metadata", {})
    lifecycle = metadata.get("lifecycle") or {}
    version_text = lifecycle.get("version")
    version = None
    if version_text is not None:
        try:
            version = SemVer.parse(str(version_text))
        except ValueError:
            raise PackError(
                f"getting label io.buildpacks.builder.metadata: invalid semantic version {version_text}"
            ) from None
    env = dict(e.split("=", 1) for e in config.get("Env") or [] if "=" in e)
    prefix = "adding image labels to builder: "
    for key in ("CNB_USER_ID", "CNB_GROUP_ID"):
        if not env.get(key):
            raise PackError(f"{prefix}image {symbol(name)} missing required env var {symbol(key)}")
    for key in ("CNB_USER_ID", "CNB_GROUP_ID"):
        if not re.fullmatch(r"[+-]?[0-9]+", env[key]):
            raise PackError(
                f"{prefix}failed to parse {symbol(key)}, value {symbol(env[key])} should be an integer"
            )
    order = _label_json(labels, "io.buildpacks.buildpack.order", [])
    order_extensions = _label_json(labels, "io.buildpacks.buildpack.order-extensions", [])
    if version is None:
        raise PackError("lifecycle version must be specified in builder")
    apis = _lifecycle_apis(lifecycle)
    if not apis["buildpack"]:
        raise PackError("supported Lifecycle Buildpack APIs not specified")
    if not apis["platform"]:
        raise PackError("supported Lifecycle Platform APIs not specified")
    target = "/".join(p for p in (image.get("Os"), image.get("Architecture"), image.get("Variant")) if p)
    return Builder(
        name=name,
        metadata=metadata,
        labels=labels,
        lifecycle=version,
        target=target,
        buildpacks=_modules(metadata.get("buildpacks")),
        extensions=_modules(metadata.get("extensions")),
        order=order or [],
        order_extensions=order_extensions or [],
    )


def _lifecycle_apis(lifecycle: dict[str, Any]) -> dict[str, list[str]]:
    """CompatDescriptor (internal/builder/descriptor.go:86-111): old ``api`` fills ``apis``."""
    apis = lifecycle.get("apis") or {}
    out = {
        kind: [
            *((apis.get(kind) or {}).get("deprecated") or []),
            *((apis.get(kind) or {}).get("supported") or []),
        ]
        for kind in ("buildpack", "platform")
    }
    supported = any((apis.get(kind) or {}).get("supported") for kind in ("buildpack", "platform"))
    old = lifecycle.get("api") or {}
    if not supported and old.get("buildpack") and old.get("platform"):
        out = {"buildpack": [str(old["buildpack"])], "platform": [str(old["platform"])]}
    return out


def _platform_apis(request: Request, builder: Builder) -> None:
    apis = _lifecycle_apis(builder.metadata.get("lifecycle") or {})["platform"]
    if not set(apis) & set(SUPPORTED_PLATFORM_APIS):
        raise PackError(f"Builder {symbol(request.builder)} is incompatible with this version of pack")


def _run_image(request: Request, config: PackConfig, daemon: Daemon, builder: Builder, target: str) -> None:
    name = request.run_image or _select_run_image(request, config, daemon, builder.metadata)
    with wrapped(f"invalid run-image {symbol(name)}"):
        if not name:
            raise PackError("run image must be specified")
        daemon.fetch(name, target)


def _select_run_image(request: Request, config: PackConfig, daemon: Daemon, metadata: dict[str, Any]) -> str:
    """pkg/client/common.go resolveRunImage/getBestRunMirror, the builder's registry preferred."""
    entries = [*(metadata.get("images") or []), (metadata.get("stack") or {}).get("runImage") or {}]
    default = entries[0] or {}
    image = str(default.get("image") or "")
    candidates = [*config.run_image_mirrors.get(image, []), image, *(default.get("mirrors") or [])]
    preferred = parse_reference(request.builder).registry
    readable = [c for c in candidates if daemon.has_read_access(c)]
    for candidate in readable:
        try:
            if parse_reference(candidate).registry == preferred:
                return candidate
        except BadName:
            continue
    return readable[0] if readable else image


def _buildpacks(request: Request, daemon: Daemon, builder: Builder, target: str) -> int:
    """processBuildpacks (build.go:1229-1337): how many non-inline modules were fetched."""
    fetched = inline = 0
    for locator in request.buildpacks:
        if _locator_kind(locator, request.buildpack_base, builder.buildpacks) is Locator.FROM_BUILDER:
            continue
        inline += locator.startswith("inline:")
        fetched += _fetch_module(locator, request.buildpack_base, daemon, builder.buildpacks, target, request)
    # Pre/post buildpacks only when neither -b nor the project group set an order, and the
    # builder has one; RelativeBaseDir is then still "" (the CWD), even for project.toml entries.
    if not request.buildpacks and builder.order:
        for locator in request.pre + request.post:
            inline += locator.startswith("inline:")
            fetched += _fetch_module(locator, "", daemon, builder.buildpacks, target, request)
    return fetched - inline


def _extensions(request: Request, daemon: Daemon, builder: Builder, target: str) -> int:
    """processExtensions (build.go:1465-1492): the builder's *extensions* are the known ids."""
    fetched = 0
    for locator in request.extensions:
        kind = _locator_kind(locator, "", builder.extensions)
        if kind is Locator.REGISTRY:
            raise PackError("RegistryLocator type is not valid for extensions")
        if kind is Locator.FROM_BUILDER:
            raise PackError("from builder is not supported for extensions")
        fetched += _fetch_module(locator, "", daemon, builder.extensions, target, request, kind="extension")
    return fetched


def _locator_kind(locator: str, base: str, modules: list[ModuleInfo]) -> Locator:
    if locator.startswith("inline:"):
        return Locator.URI
    return locator_type(locator, base, modules)


def _fetch_module(
    locator: str,
    base: str,
    daemon: Daemon,
    modules: list[ModuleInfo],
    target: str,
    request: Request,
    kind: str = "buildpack",
) -> int:
    """fetchBuildpack (build.go:1339-1388): how many modules it fetched (0 for a builder id)."""
    found = _locator_kind(locator, base, modules)
    if found is Locator.ID:
        return 0
    with wrapped("downloading buildpack"):
        _download(locator, base, daemon, target, request.publish, kind)
    count = 1
    # The package.toml next to the locator *as written* (relative to the CWD, not to base).
    package_toml = os.path.join(locator, "package.toml")
    if os.path.isfile(package_toml):
        with wrapped(f"fetching package.toml dependencies (path={symbol(package_toml)})"):
            count += _dependencies(locator, package_toml, daemon, target, request.publish)
    return count


def _download(locator: str, base: str, daemon: Daemon, target: str, publish: bool, kind: str) -> None:
    """buildpackDownloader.Download (pkg/buildpack/downloader.go:85-157): no builder modules."""
    if locator.startswith("inline:"):
        return
    found = locator_type(locator, base, [])
    if found in (Locator.PACKAGE, Locator.REGISTRY):
        if found is Locator.REGISTRY:
            with wrapped(f"locating in registry: {symbol(locator)}"):
                image = resolve_registry_buildpack(locator)
        else:
            image = package_image(locator)
        if not publish:
            with wrapped(f"extracting from registry {symbol(locator)}"), wrapped("fetching image"):
                daemon.fetch(image, target)
        return
    if found is Locator.URI:
        _local_module(locator, base, kind)
        return
    raise PackError(f"error reading {locator}: invalid locator: {found.value}")


def _local_module(locator: str, base: str, kind: str) -> None:
    """A file or folder buildpack; URLs would need the network, which the stand-in has not."""
    if locator.startswith(("http://", "https://")):
        raise PackError(f"downloading {kind} from {symbol(locator)}: the stand-in has no network")
    if "://" in locator or locator.startswith("file:"):
        if not locator.startswith("file://"):
            scheme = locator.split(":", 1)[0]
            raise PackError(
                f"downloading {kind} from {symbol(locator)}: unsupported protocol {symbol(scheme)} "
                f"in URI {symbol(locator)}"
            )
        path = locator.removeprefix("file://")
    else:
        path = locator if os.path.isabs(locator) else os.path.abspath(os.path.join(base, locator))
    uri = locator if "://" in locator else f"file://{path}"
    if not os.path.exists(path):
        raise PackError(f"downloading {kind} from {symbol(uri)}: open {path}: no such file or directory")
    descriptor = "extension.toml" if kind == "extension" else "buildpack.toml"
    if os.path.isdir(path) and not os.path.isfile(os.path.join(path, descriptor)):
        raise PackError(
            f"extracting from {symbol(uri)}: reading {kind}: reading {descriptor}: "
            f"open {descriptor}: no such file or directory"
        )


def _dependencies(locator: str, package_toml: str, daemon: Daemon, target: str, publish: bool) -> int:
    """fetchBuildpackDependencies (build.go:1390-1413): each ``uri``, relative to <bp>/<buildpack.uri>."""
    import tomllib

    try:
        with open(package_toml, "rb") as file:
            data = tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise PackError(f"reading config: toml: {error}") from None
    buildpack_uri = str((data.get("buildpack") or {}).get("uri") or "")
    if not buildpack_uri:
        raise PackError("missing 'buildpack.uri' configuration")
    base = os.path.join(locator, buildpack_uri)
    count = 0
    for dependency in data.get("dependencies") or []:
        uri = str(dependency.get("uri") or "")
        image = str(dependency.get("image") or "")
        with wrapped(f"fetching dependencies (uri={symbol(uri)},image={symbol(image)})"):
            # The deprecated ``image`` key is not forwarded: an image-only entry is Download("").
            _download(uri, base, daemon, target, publish, "buildpack")
        count += 1
    return count


def _lifecycle(
    request: Request,
    config: PackConfig,
    daemon: Daemon,
    builder: Builder,
    extra: int,
    extensions: int,
    target: str,
) -> None:
    """build.go:466-543: the creator, else the lifecycle image when the version has one."""
    version = builder.lifecycle
    is_trusted = trusted(request.builder, config, request.trust_builder)
    use_creator = version.compare(MIN_CREATOR) >= 0 and is_trusted
    if extensions or (extra and not request.trust_extra):
        use_creator = False
    if use_creator:
        return
    supports_image = version.compare(PREV_LIFECYCLE_IMAGE) == 0 or version.compare(MIN_LIFECYCLE_IMAGE) >= 0
    if not supports_image:
        if not is_trusted:
            raise PackError(
                f"Lifecycle {version} does not have an associated lifecycle image. Builder must be trusted."
            )
        return
    name = request.lifecycle_image or f"{LIFECYCLE_REPO}:{version}"
    with wrapped("fetching lifecycle image"):
        daemon.fetch_for_platform(name, target)


def request_from(parsed: Parsed, config: PackConfig, descriptor: Descriptor, descriptor_path: str) -> Request:
    builder = (
        parsed.string("builder")
        if parsed.was_set("builder")
        else descriptor.builder or config.default_builder
    )
    flag_buildpacks = parsed.strings("buildpack")
    project = [] if flag_buildpacks else [_project_locator(bp) for bp in descriptor.buildpacks]
    pre = parsed.strings("pre-buildpack")
    post = parsed.strings("post-buildpack")
    project_pre = [] if pre else [_project_locator(bp) for bp in descriptor.pre]
    project_post = [] if post else [_project_locator(bp) for bp in descriptor.post]
    return Request(
        app_image=parsed.args[0],
        builder=builder,
        publish=parsed.flag("publish"),
        run_image=parsed.string("run-image"),
        lifecycle_image=lifecycle_image_name(parsed, config),
        trust_builder=parsed.flag("trust-builder"),
        trust_extra=parsed.flag("trust-extra-buildpacks"),
        platform=parsed.string("platform"),
        buildpacks=flag_buildpacks or project,
        # filepath.Dir("") is "." when there is no descriptor; the CWD either way.
        buildpack_base="" if flag_buildpacks else os.path.dirname(descriptor_path),
        pre=pre or project_pre,
        post=post or project_post,
        extensions=parsed.strings("extension"),
        descriptor=descriptor,
    )


def lifecycle_image_name(parsed: Parsed, config: PackConfig) -> str:
    """``--lifecycle-image`` (its default is config ``lifecycle-image``), as ParseReference(x).Name()."""
    value = parsed.string("lifecycle-image") if parsed.was_set("lifecycle-image") else config.lifecycle_image
    if not value:
        return ""
    try:
        return parse_reference(value).name()
    except BadName as error:
        raise PackError(f"parsing lifecycle image {value}: {error}") from None


def _project_locator(bp: ProjectBuildpack) -> str:
    """getBuildpackLocator (build.go:1415-1436): inline scripts, uris, id@version, id."""
    if bp.id and bp.inline and not bp.uri:
        if not bp.api:
            raise PackError("Missing API version for inline buildpack")
        return f"inline:{bp.id}"
    if bp.uri:
        return bp.uri
    if bp.id:
        return f"{bp.id}@{bp.version}" if bp.version else bp.id
    raise PackError("Invalid buildpack definition")


def translated(name: str, mirrors: dict[str, str] | None) -> str:
    return translate_registry(name, mirrors)[0]
