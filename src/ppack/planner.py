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
from dataclasses import dataclass, field
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

_SEMVER = r"v?[0-9]+(?:\.[0-9]+){0,2}(?:-[0-9A-Za-z.\-]+)?(?:\+[0-9A-Za-z.\-]+)?"
_REGISTRY_LOCATOR = re.compile(rf"[a-z0-9\-.]+/[a-z0-9\-.]+(?:@{_SEMVER})?")
_URI = re.compile(r".+:/.*", re.DOTALL)
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
        pre=[ModuleEntry(v) for v in scan.values("pre-buildpack")] or _rebased(descriptor.pre, descriptor),
        post=[ModuleEntry(v) for v in scan.values("post-buildpack")] or _rebased(descriptor.post, descriptor),
        extensions=scan.values("extension"),
        cwd=cwd,
    )


def _rebased(entries: list[ModuleEntry], descriptor: Descriptor) -> list[ModuleEntry]:
    base = descriptor.base_dir
    return [
        ModuleEntry(str(base / e.locator), e.inline) if (base / e.locator).exists() and e.locator else e
        for e in entries
    ]


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
    name = reference.translate(normalized, config.registry_mirrors)
    return Need(name, "builder", f"from {inputs.builder_source}", platform=inputs.platform)


@dataclass(frozen=True)
class BuilderInfo:
    """What pack reads from the builder image's labels and config."""

    run_image: str
    run_image_mirrors: list[str]
    lifecycle_version: str
    buildpack_ids: frozenset[str]
    has_extensions: bool
    platform: str


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
        extensions = bool(json.loads(labels.get(ORDER_EXTENSIONS_LABEL) or "[]"))
    except (ValueError, TypeError, AttributeError) as error:
        raise PpackError(f"builder '{name}' has an unreadable '{METADATA_LABEL}' label: {error}") from None
    platform = "/".join(
        p for p in (inspect.get("Os"), inspect.get("Architecture"), inspect.get("Variant")) if p
    )
    return BuilderInfo(run["image"], run["mirrors"], lifecycle, ids, extensions, platform)


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
        ids.update({ident, f"{ident}@{version}"} if version else {ident})
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
    modules, extra_modules = _module_needs(inputs, config, info, platform)
    if not inputs.publish:
        plan.needs.append(_run_image_need(inputs, config, info, present, platform))
        plan.needs.extend(modules)
    lifecycle = _lifecycle_need(inputs, config, info, platform, extra_modules=extra_modules)
    if lifecycle is not None:
        plan.needs.insert(0, lifecycle)
    if inputs.extensions or info.has_extensions:
        plan.pack_policy = "always"
        plan.warnings.append(
            "the builder contains image extensions, which pack only builds with "
            "--pull-policy always; ppack pulled per its policy and runs pack with --pull-policy always"
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
    inputs: BuildInputs, config: PackConfig, info: BuilderInfo, platform: str, *, extra_modules: int
) -> Need | None:
    version = _semver(info.lifecycle_version)
    if version is None:
        return None
    trusted = is_trusted(inputs.builder, config, inputs.trust_builder)
    uses_creator = (
        version[:3] >= (0, 7, 4)
        and trusted
        and not inputs.extensions
        and (extra_modules == 0 or inputs.trust_extra_buildpacks)
    )
    supports_image = version[:3] == (0, 6, 1) or version[:3] >= (0, 7, 5)
    if uses_creator or not supports_image:
        return None
    if inputs.lifecycle_image:
        name = _parse_ref(inputs.lifecycle_image, "lifecycle image").ggcr_name()
    else:
        name = f"{LIFECYCLE_REPO}:{_format_semver(version)}"
    why = "builder is not trusted" if not trusted else "extra buildpacks or extensions were added"
    return Need(reference.translate(name, config.registry_mirrors), "lifecycle", why, platform)


def _semver(text: str) -> tuple[int, int, int, str, str] | None:
    match = _VERSION.fullmatch(text.strip())
    if not match:
        return None
    return (
        int(match["major"]),
        int(match["minor"] or 0),
        int(match["patch"] or 0),
        match["pre"] or "",
        match["meta"] or "",
    )


def _format_semver(version: tuple[int, int, int, str, str]) -> str:
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


def _module_needs(
    inputs: BuildInputs, config: PackConfig, info: BuilderInfo, platform: str
) -> tuple[list[Need], int]:
    """Images of buildpacks, pre/post buildpacks and extensions; and how many extra modules."""
    entries = [(e, inputs.buildpack_base, "buildpack") for e in inputs.buildpacks if e.locator]
    # pack adds pre/post buildpacks only when nothing else set the order.
    if not entries:
        entries = [(e, inputs.cwd, "buildpack") for e in [*inputs.pre, *inputs.post] if e.locator]
    entries += [(ModuleEntry(x), inputs.cwd, "extension") for x in inputs.extensions]
    needs: list[Need] = []
    extra = 0
    for entry, base, role in entries:
        found, counted = _locator_needs(entry, base, config, info, platform, role)
        needs.extend(found)
        extra += counted if role == "buildpack" else 0
    return needs, extra


def _locator_needs(
    entry: ModuleEntry,
    base: Path,
    config: PackConfig,
    info: BuilderInfo,
    platform: str,
    role: str,
) -> tuple[list[Need], int]:
    """The images one locator makes pack read, and whether it counts as an extra module."""
    if entry.inline:
        return [], 0
    kind, value = classify(entry.locator, info.buildpack_ids, base)
    mirrors = config.registry_mirrors
    why = f"{role} {entry.locator}"
    if kind == "package":
        return [Need(reference.translate(value, mirrors), role, why, platform)], 1
    if kind == "registry":
        return [Need(value, role, why, platform, via_pack=True)], 1
    if kind == "directory":
        return _package_toml_needs(Path(value), config, info, platform), 1
    return [], 1 if kind == "uri" else 0


def classify(locator: str, builder_ids: frozenset[str], base: Path) -> tuple[str, str]:
    """pack's locator rules (pkg/buildpack/locator_type.go), in pack's order."""
    if locator == "from=builder":
        return "builder", locator
    if locator.startswith(("urn:cnb:builder:", "from=builder:")):
        return "builder", locator
    if locator.startswith("urn:cnb:registry:"):
        return "registry", locator
    if _URI.fullmatch(locator):
        if locator.startswith("docker:/"):
            image = package_image(locator)
            if _is_valid(image):
                return "package", image
        return _local_uri(locator)
    local = base / locator
    if local.exists():
        return ("directory", str(local)) if local.is_dir() else ("uri", str(local))
    if locator in builder_ids:
        return "builder", locator
    if _REGISTRY_LOCATOR.fullmatch(locator):
        return "registry", locator
    if _is_valid(locator):
        return "package", locator
    return "invalid", locator


def _local_uri(locator: str) -> tuple[str, str]:
    if locator.startswith("file://"):
        path = Path(locator.removeprefix("file://"))
        if path.is_dir():
            return "directory", str(path)
    return "uri", locator


def package_image(locator: str) -> str:
    """pack's ParsePackageLocator: strip ``docker://``, ``docker:/`` or ``docker:``."""
    for prefix in ("docker://", "docker:/", "docker:"):
        if locator.startswith(prefix):
            return locator.removeprefix(prefix)
    return locator


def _package_toml_needs(folder: Path, config: PackConfig, info: BuilderInfo, platform: str) -> list[Need]:
    path = folder / "package.toml"
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        dependencies = data.get("dependencies") or []
        uris = [str(dep.get("uri") or "") for dep in dependencies]
    except FileNotFoundError:
        return []
    except (OSError, tomllib.TOMLDecodeError, AttributeError, TypeError) as error:
        raise PpackError(f"reading {path}: {error}") from None
    needs: list[Need] = []
    for uri in filter(None, uris):
        found, _ = _locator_needs(ModuleEntry(uri), folder, config, info, platform, "dependency")
        needs.extend(found)
    return needs
