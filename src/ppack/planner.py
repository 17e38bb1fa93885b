"""
Which images ``pack build`` will read from the daemon, named exactly as pack names them.

Under ``--pull-policy never`` pack fails on the first image that is not in the
daemon under the name it computes, so this module follows pack v0.40.5's rules
(see ../shared/reference/pack-build-images.md): builder, run image (with
mirror selection), lifecycle image (trust rules), buildpack and extension
packages, registry-mirror translation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ppack import _toml as tomllib
from ppack import reference
from ppack.commandline import Scan
from ppack.messages import PpackError
from ppack.project import Descriptor, ModuleEntry, locate, read_descriptor
from ppack.settings import PackConfig


# pack internal/builder/trusted_builder.go: compared with the builder string as typed.
KNOWN_TRUSTED_BUILDERS = frozenset(
    {
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
    }
)
LIFECYCLE_REPO = "docker.io/buildpacksio/lifecycle"
METADATA_LABEL = "io.buildpacks.builder.metadata"
ORDER_EXTENSIONS_LABEL = "io.buildpacks.buildpack.order-extensions"
ORDER_LABEL = "io.buildpacks.buildpack.order"

# pkg/buildpack/locator_type.go:36-39: semver.org's strict pattern (``@1.0`` does not match).
_SEMVER = (
    r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)"
    r"(?:-(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*)?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?"
)
_REGISTRY_LOCATOR = re.compile(rf"[a-z0-9\-.]+/[a-z0-9\-.]+(?:@{_SEMVER})?")
_URI = re.compile(r".+:/")  # Go's ^.+:/.* (RE2: '.' stops at a newline), used with match()
_VERSION = re.compile(
    r"v?(?P<major>[0-9]+)(?:\.(?P<minor>[0-9]+))?(?:\.(?P<patch>[0-9]+))?"
    r"(?P<pre>-[0-9A-Za-z.\-]+)?(?P<meta>\+[0-9A-Za-z.\-]+)?"
)


@dataclass(frozen=True)
class Need:
    """One image pack will read from the daemon (or a registry buildpack pack will resolve)."""

    name: str
    role: str
    why: str
    platform: str = ""
    alias: str = ""  # an untranslated name pack looks for too (run-image selection)
    via_pack: bool = False  # registry buildpacks: `pack buildpack pull` resolves them
    pack_args: tuple[str, ...] = ()  # more arguments for `pack buildpack pull` (-r REGISTRY)

    @property
    def key(self) -> str:
        return self.name if self.via_pack else reference.canonical(self.name)


@dataclass(frozen=True)
class BuildInputs:
    """Everything about one ``pack build`` command line that decides its images."""

    builder: str
    builder_source: str
    app_image: str
    publish: bool
    platform: str
    run_image: str
    lifecycle_image: str
    trust_builder: bool
    trust_extra_buildpacks: bool
    buildpacks: list[ModuleEntry]
    buildpack_base: Path
    pre: list[ModuleEntry]
    post: list[ModuleEntry]
    extensions: list[str]
    cwd: Path
    buildpack_registry: str = ""  # -r: the registry index that resolves registry buildpacks


def read_inputs(scan: Scan, config: PackConfig, cwd: Path) -> BuildInputs:
    path, required = locate(scan.last("descriptor"), scan.last("path"), cwd)
    descriptor = read_descriptor(path, required)
    builder, source = _builder_choice(scan, descriptor, config)
    flag_buildpacks = [ModuleEntry(v) for v in scan.values("buildpack")]
    lifecycle_flag = scan.last("lifecycle-image")
    return BuildInputs(
        builder=builder,
        builder_source=source,
        app_image=scan.positionals[0] if scan.positionals else "",
        publish=scan.enabled("publish"),
        platform=scan.last("platform") or "",
        run_image=scan.last("run-image") or "",
        lifecycle_image=config.lifecycle_image if lifecycle_flag is None else lifecycle_flag,
        trust_builder=scan.enabled("trust-builder"),
        trust_extra_buildpacks=scan.enabled("trust-extra-buildpacks"),
        buildpacks=flag_buildpacks or descriptor.group,
        buildpack_base=cwd if flag_buildpacks else descriptor.base_dir,
        # pack resolves pre/post entries against its CWD, even those from project.toml
        # (RelativeBaseDir is still empty when they are processed: pkg/client/build.go:1284-1334).
        pre=[ModuleEntry(v) for v in scan.values("pre-buildpack")] or descriptor.pre,
        post=[ModuleEntry(v) for v in scan.values("post-buildpack")] or descriptor.post,
        extensions=scan.values("extension"),
        cwd=cwd,
        buildpack_registry=scan.last("buildpack-registry") or "",
    )


def _builder_choice(scan: Scan, descriptor: Descriptor, config: PackConfig) -> tuple[str, str]:
    """Explicit --builder (even empty) > project.toml > config default-builder-image."""
    flag = scan.last("builder")
    if flag is not None:
        return flag, "--builder"
    if descriptor.builder:
        return descriptor.builder, f"builder in {descriptor.path}"
    return config.default_builder_image, f"default-builder-image in {config.path}"


def _parse_ref(name: str, what: str) -> reference.ImageRef:
    try:
        return reference.parse(name)
    except reference.ReferenceError as error:
        raise PpackError(f"invalid {what}: {error}") from None


def validate(inputs: BuildInputs, config: PackConfig) -> None:
    """Reject malformed names from the command line and files before any daemon call."""
    builder_need(inputs, config)
    if inputs.run_image:
        _parse_ref(inputs.run_image, "--run-image")
    if inputs.lifecycle_image:
        _parse_ref(inputs.lifecycle_image, "lifecycle image")


def builder_need(inputs: BuildInputs, config: PackConfig) -> Need:
    normalized = _parse_ref(inputs.builder, f"builder (from {inputs.builder_source})").ggcr_name()
    name = _for_platform(normalized, config.registry_mirrors, targeted=bool(inputs.platform))
    return Need(name, "builder", f"from {inputs.builder_source}", platform=inputs.platform)


def _for_platform(name: str, mirrors: Mapping[str, str], *, targeted: bool) -> str:
    """
    The name pack's FetchForPlatform reads: with a target it translates the name, then
    (under ``never``) hands it to Fetch, which translates it again (pkg/image/fetcher.go:248-274).
    Only a ``*`` mirror with a path (``host/proxy``) is changed by the second pass.
    """
    name = reference.translate(name, mirrors)
    return reference.translate(name, mirrors) if targeted else name


@dataclass(frozen=True)
class BuilderInfo:
    """What pack reads from the builder image's labels and config."""

    run_image: str
    run_image_mirrors: list[str]
    lifecycle_version: str
    buildpack_ids: frozenset[str]
    has_extensions: bool
    platform: str
    has_order: bool = True
    extension_ids: frozenset[str] = frozenset()


def builder_info(name: str, inspect: Mapping[str, Any]) -> BuilderInfo:
    config = inspect.get("Config") or {}
    labels = config.get("Labels") or {}
    raw = labels.get(METADATA_LABEL)
    if raw is None:
        raise PpackError(f"builder '{name}' missing label '{METADATA_LABEL}' -- try recreating builder")
    try:
        metadata = json.loads(raw)
        run = _default_run_image(metadata)
        lifecycle = str((metadata.get("lifecycle") or {}).get("version") or "")
        ids = _buildpack_ids(metadata.get("buildpacks") or [])
        extension_ids = _buildpack_ids(metadata.get("extensions") or [])
        extensions = bool(json.loads(labels.get(ORDER_EXTENSIONS_LABEL) or "[]"))
        has_order = bool(json.loads(labels.get(ORDER_LABEL) or "[]"))
    except (ValueError, TypeError, AttributeError) as error:
        raise PpackError(f"builder '{name}' has an unreadable '{METADATA_LABEL}' label: {error}") from None
    platform = "/".join(
        p for p in (inspect.get("Os"), inspect.get("Architecture"), inspect.get("Variant")) if p
    )
    return BuilderInfo(
        run["image"], run["mirrors"], lifecycle, ids, extensions, platform, has_order, extension_ids
    )


def _default_run_image(metadata: dict[str, Any]) -> dict[str, Any]:
    """pack's RunImages(): ``images`` then ``stack.runImage``; the first one is used."""
    candidates = list(metadata.get("images") or [])
    candidates.append((metadata.get("stack") or {}).get("runImage") or {})
    first = candidates[0] or {}
    image = first.get("image") or ""
    mirrors = first.get("mirrors") or []
    if not isinstance(image, str) or not all(isinstance(m, str) for m in mirrors):
        raise TypeError("run image entries must be strings")
    return {"image": image, "mirrors": list(mirrors)}


def _buildpack_ids(entries: list[Any]) -> frozenset[str]:
    ids: set[str] = set()
    for entry in entries:
        ident, version = str(entry.get("id", "")), str(entry.get("version", ""))
        ids.update({ident, f"{ident}@{version}"})
    return frozenset(ids)


@dataclass
class Plan:
    """The images after the builder, and how pack must be run."""

    needs: list[Need] = field(default_factory=list)
    pack_policy: str = "never"
    warnings: list[str] = field(default_factory=list)


def plan_after_builder(
    inputs: BuildInputs,
    config: PackConfig,
    info: BuilderInfo,
    present: Callable[[str], bool],
) -> Plan:
    """Run image, lifecycle, buildpacks and extensions, in pack's order of fetching."""
    plan = Plan()
    platform = inputs.platform or info.platform
    modules = _module_needs(inputs, config, info, platform)
    if inputs.buildpack_registry:
        # The build resolves registry buildpacks in that index: the pre-pull must too.
        registry = ("--buildpack-registry", inputs.buildpack_registry)
        modules.needs = [replace(n, pack_args=registry) if n.via_pack else n for n in modules.needs]
    if not inputs.publish:
        plan.needs.append(_run_image_need(inputs, config, info, present, platform))
        plan.needs.extend(modules.needs)
    lifecycle = _lifecycle_need(inputs, config, info, platform, modules)
    if lifecycle is not None:
        plan.needs.insert(0, lifecycle)
    if inputs.extensions or info.has_extensions:
        plan.pack_policy = "always"
        what = "--extension adds image extensions"
        if not inputs.extensions:
            what = "the builder contains image extensions"
        plan.warnings.append(
            f"{what}, which pack only builds with --pull-policy always; "
            "ppack pulled per its policy and runs pack with --pull-policy always"
        )
    return plan


def _run_image_need(
    inputs: BuildInputs,
    config: PackConfig,
    info: BuilderInfo,
    present: Callable[[str], bool],
    platform: str,
) -> Need:
    mirrors = config.registry_mirrors
    if inputs.run_image:
        _parse_ref(inputs.run_image, "--run-image")
        return Need(reference.translate(inputs.run_image, mirrors), "run image", "from --run-image", platform)
    if not info.run_image:
        raise PpackError("invalid run-image '': run image must be specified")
    candidates = [*config.run_image_mirrors.get(info.run_image, []), info.run_image, *info.run_image_mirrors]
    preferred = reference.registry_of(inputs.builder)
    chosen, why = _select_run_image(candidates, preferred, present, info.run_image)
    name = reference.translate(chosen, mirrors)
    return Need(name, "run image", why, platform, alias=chosen if name != chosen else "")


def _select_run_image(
    candidates: list[str], preferred: str, present: Callable[[str], bool], default: str
) -> tuple[str, str]:
    """
    pack under ``never`` keeps the candidates the daemon has (untranslated names),
    preferring the builder's registry, else falls back to the builder's run image.
    When the daemon has none, pick what pack would pick with network access.
    """
    valid = [c for c in candidates if _is_valid(c)]
    kept = [c for c in valid if present(c)]
    pool, source = (kept, "already in the daemon") if kept else (valid, "builder metadata")
    for candidate in pool:
        if reference.registry_of(candidate) == preferred:
            return candidate, f"{source}, on the builder's registry {preferred}"
    if pool:
        return pool[0], source
    return default, "builder metadata"


def _is_valid(name: str) -> bool:
    try:
        reference.parse(name)
    except reference.ReferenceError:
        return False
    return True


def _lifecycle_need(
    inputs: BuildInputs, config: PackConfig, info: BuilderInfo, platform: str, modules: _Modules
) -> Need | None:
    version = _semver(info.lifecycle_version)
    if version is None:
        return None
    trusted = is_trusted(inputs.builder, config, inputs.trust_builder)
    # pkg/client/build.go:466-482: fetched extensions, or fetched non-inline buildpacks without
    # --trust-extra-buildpacks, turn the creator off.
    uses_creator = (
        _at_least(version, (0, 7, 4))
        and trusted
        and modules.extensions == 0
        and (modules.buildpacks == 0 or inputs.trust_extra_buildpacks)
    )
    supports_image = _equals(version, (0, 6, 1)) or _at_least(version, (0, 7, 5))
    if uses_creator or not supports_image:
        return None
    if inputs.lifecycle_image:
        name = _parse_ref(inputs.lifecycle_image, "lifecycle image").ggcr_name()
    else:
        name = f"{LIFECYCLE_REPO}:{_format_semver(version)}"
    why = "builder is not trusted" if not trusted else "extra buildpacks or extensions were added"
    # FetchForPlatform with the target pack always has by then (--platform or the builder's).
    return Need(_for_platform(name, config.registry_mirrors, targeted=True), "lifecycle", why, platform)


_Semver = tuple[int, int, int, str, str]


def _semver(text: str) -> _Semver | None:
    match = _VERSION.fullmatch(text)
    if not match:
        return None
    return (
        int(match["major"]),
        int(match["minor"] or 0),
        int(match["patch"] or 0),
        match["pre"] or "",
        match["meta"] or "",
    )


def _at_least(version: _Semver, release: tuple[int, int, int]) -> bool:
    """Masterminds/semver v1 ``!v.LessThan(release)``: a pre-release ranks below its release."""
    return version[:3] > release or (version[:3] == release and not version[3])


def _equals(version: _Semver, release: tuple[int, int, int]) -> bool:
    """Masterminds/semver v1 ``Equal``: build metadata is ignored, a pre-release is not."""
    return version[:3] == release and not version[3]


def _format_semver(version: _Semver) -> str:
    major, minor, patch, pre, meta = version
    return f"{major}.{minor}.{patch}{pre}{meta}"


def is_trusted(builder: str, config: PackConfig, flag: bool) -> bool:
    """--trust-builder, the built-in list (exact string), or config [[trusted-builders]]."""
    if flag or builder in KNOWN_TRUSTED_BUILDERS:
        return True
    try:
        ref = reference.parse(builder)
    except reference.ReferenceError:
        return False
    for entry in config.trusted_builders:
        try:
            trusted = reference.parse(entry)
        except reference.ReferenceError:
            continue
        if trusted.tag_given:
            if ref.tag_given and trusted.ggcr_name() == ref.ggcr_name():
                return True
        elif trusted.repository_str == ref.repository_str:
            return True
    return False


@dataclass
class _Modules:
    """The images of buildpacks and extensions, and how many modules pack will fetch."""

    needs: list[Need] = field(default_factory=list)
    buildpacks: int = 0  # fetched, not inline
    extensions: int = 0  # fetched (an id on the builder is not)


def _module_needs(inputs: BuildInputs, config: PackConfig, info: BuilderInfo, platform: str) -> _Modules:
    """Images of buildpacks, pre/post buildpacks and extensions (pkg/client/build.go:1229-1492)."""
    entries = [(e, inputs.buildpack_base) for e in inputs.buildpacks]
    # pack adds pre/post buildpacks only when nothing else set the order, and the builder has one;
    # they resolve against the CWD.
    if not entries and info.has_order:
        entries = [(e, inputs.cwd) for e in [*inputs.pre, *inputs.post]]
    found = _Modules()
    for entry, base in entries:
        needs, counted = _locator_needs(
            entry, base, config, info.buildpack_ids, platform, "buildpack", inputs.cwd
        )
        found.needs.extend(needs)
        found.buildpacks += counted
    for locator in inputs.extensions:
        entry = ModuleEntry(locator)
        needs, counted = _locator_needs(
            entry, inputs.cwd, config, info.extension_ids, platform, "extension", inputs.cwd
        )
        found.needs.extend(needs)
        found.extensions += counted
    return found


def _locator_needs(
    entry: ModuleEntry,
    base: Path,
    config: PackConfig,
    builder_ids: frozenset[str],
    platform: str,
    role: str,
    cwd: Path,
) -> tuple[list[Need], int]:
    """
    The images one locator makes pack read, and whether pack fetches it (1) or finds it on
    the builder (0). Inline buildpacks are fetched but do not count.
    """
    if entry.inline:
        return [], 0
    kind, value = classify(entry.locator, builder_ids, base)
    if kind in ("builder", "from-builder"):
        return [], 0
    if kind == "invalid":
        return [], 1  # pack's download fails on it
    needs = _image_needs(kind, value, entry.locator, config, platform, role)
    # fetchBuildpack stats <locator as written>/package.toml, relative to pack's CWD (build.go:1377-1385).
    package_toml = cwd / entry.locator / "package.toml"
    if package_toml.is_file():
        needs += _package_toml_needs(package_toml, cwd / entry.locator, config, platform)
    return needs, 1


def _image_needs(
    kind: str, value: str, locator: str, config: PackConfig, platform: str, role: str
) -> list[Need]:
    why = f"{role} {locator}"
    if kind == "package":
        return [Need(reference.translate(value, config.registry_mirrors), role, why, platform)]
    if kind == "registry":
        return [Need(value, role, why, platform, via_pack=True)]
    return []


def is_registry_locator(text: str) -> bool:
    """A registry buildpack as pack writes one (the name ppack records it under)."""
    return text.startswith("urn:cnb:registry:") or bool(_REGISTRY_LOCATOR.fullmatch(text))


def classify(locator: str, builder_ids: frozenset[str], base: Path) -> tuple[str, str]:
    """pack's GetLocatorType (pkg/buildpack/locator_type.go:56-112), in pack's order."""
    if locator == "from=builder":
        return "from-builder", locator
    if locator.startswith(("urn:cnb:builder:", "from=builder:")):
        return "builder", locator
    if locator.startswith("urn:cnb:registry:"):
        return "registry", locator
    if _URI.match(locator):
        # The whole locator, prefix included, must parse as a reference: ``docker://host:port/x``
        # does not (a ``:`` in the repository part), so pack takes it for a URL.
        if locator.startswith("docker:/") and _ggcr_parses(locator):
            return "package", package_image(locator)
        return "uri", locator
    if locator and (base / locator).exists():
        return "uri", str(base / locator)
    if _in_builder(locator, builder_ids):
        return "builder", locator
    if _REGISTRY_LOCATOR.fullmatch(locator):
        return "registry", locator
    if _ggcr_parses(locator):
        return "package", locator
    return "invalid", locator


def _in_builder(locator: str, builder_ids: frozenset[str]) -> bool:
    """isFoundInBuilder with ParseIDLocator: ``id@version`` splits only on exactly one ``@``."""
    parts = locator.split("@")
    ident, version = (parts[0], parts[1]) if len(parts) == 2 else (parts[0], "")
    return (f"{ident}@{version}" if version else ident) in builder_ids


_GGCR_TAG = re.compile(r"[A-Za-z0-9_.\-]{1,128}")
_GGCR_REPOSITORY = re.compile(r"[a-z0-9_./\-]{2,255}")


def _ggcr_parses(text: str) -> bool:
    """go-containerregistry v0.21.5 ``ParseReference(text)`` succeeds (NewTag, else NewDigest)."""
    parts = text.split(":")
    base = text
    if len(parts) > 1 and "/" not in parts[-1]:
        base, tag = ":".join(parts[:-1]), parts[-1]
        if _GGCR_TAG.fullmatch(tag) and _ggcr_repository(base):
            return True
    elif _ggcr_repository(base):
        return True
    name, at, digest = text.partition("@")
    if not at or "@" in digest or not re.fullmatch(r"sha256:[a-f0-9]{64}", digest):
        return False
    head, colon, tag = name.rpartition(":")
    if colon and "/" not in tag and _GGCR_TAG.fullmatch(tag) and _ggcr_repository(head):
        name = head
    return _ggcr_repository(name)


def _ggcr_repository(text: str) -> bool:
    first, slash, rest = text.partition("/")
    registry, repository = (first, rest) if slash and ("." in first or ":" in first) else ("", text)
    if not _GGCR_REPOSITORY.fullmatch(repository):
        return False
    _host, colon, port = registry.rpartition(":") if not registry.endswith("]") else (registry, "", "")
    return not any(c in registry for c in "@?#%\\ \t\n/") and (not colon or port == "" or port.isdigit())


def package_image(locator: str) -> str:
    """pack's ParsePackageLocator: strip ``docker://``, ``docker:/`` or ``docker:``."""
    for prefix in ("docker://", "docker:/", "docker:"):
        if locator.startswith(prefix):
            return locator.removeprefix(prefix)
    return locator


def _package_toml_needs(path: Path, folder: Path, config: PackConfig, platform: str) -> list[Need]:
    """
    fetchBuildpackDependencies (build.go:1390-1413): each dependency ``uri``, relative to
    ``<folder>/<buildpack.uri>``, classified with no builder modules and not recursed into.
    """
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        relative = str((data.get("buildpack") or {}).get("uri") or "")
        uris = [str(dep.get("uri") or "") for dep in data.get("dependencies") or []]
    except (OSError, tomllib.TOMLDecodeError, AttributeError, TypeError) as error:
        raise PpackError(f"reading {path}: {error}") from None
    needs: list[Need] = []
    for uri in filter(None, uris):
        kind, value = classify(uri, frozenset(), folder / relative)
        needs += _image_needs(kind, value, uri, config, platform, "dependency")
    return needs
