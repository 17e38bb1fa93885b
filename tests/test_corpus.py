"""
A corpus of `pack build` command lines as people write them in CI scripts and
Makefiles (issue #3). For each: the argv pack receives, the set of images ppack
ensured (its pull-log keys), and the stand-in pack — which follows pack's rules
on its own (tests/fakepack) — building under ``--pull-policy never`` with every
image it reads already in the daemon.

Command lines are shell words (``shlex``). ``{registry}`` stands for the test
registry's ``host:port`` and ``{app}`` for the app folder (the CWD); both are
filled in at test time, so the table is plain data at collection time.
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import Workspace
from ppack import planner
from support.engine import (
    Dockerd,
    Registry,
    builder_labels,
    lifecycle_labels,
    package_labels,
    publish_builder,
    publish_image,
    run_image_labels,
)


sys.path.insert(0, str(Path(__file__).parent / "fakepack"))
from packsim.locators import Locator, ModuleInfo, locator_type


HUB = "docker.io"
TRUSTED = "heroku/builder:24"
UNTRUSTED = "example/builder:1"
RUN = "heroku/heroku:24"
PKG = "example/bp-pkg:1"
REG = "{registry}"

B_T = f"{HUB}/heroku/builder:24"
B_U = f"{HUB}/example/builder:1"
R_H = f"{HUB}/heroku/heroku:24"
LC = f"{HUB}/buildpacksio/lifecycle:0.21.0"
LC_205 = f"{HUB}/buildpacksio/lifecycle:0.20.5"
P1 = f"{HUB}/example/bp-pkg:1"
P2 = f"{HUB}/example/bp-two:1"
DEP = f"{HUB}/example/bp-dep:1"
PRE = f"{HUB}/example/bp-pre:1"
EXT = f"{HUB}/example/ext-pkg:1"
T = {B_T, R_H}
U = {B_U, R_H, LC}

# ------------------------------------------------------------------ project.toml and friends

V01 = '[build]\nbuilder = "heroku/builder:24"\n'
V02 = '[_]\nschema-version = "0.2"\n[io.buildpacks]\nbuilder = "heroku/builder:24"\n'
V03 = '[_]\nschema-version = "0.3"\n[io.buildpacks]\nbuilder = "heroku/builder:24"\n'
V03_PKG = V03 + '[[io.buildpacks.group]]\nuri = "docker://example/bp-pkg:1"\n'
V02_ID = V02 + '[[io.buildpacks.group]]\nid = "heroku/python"\n'
V01_WITH_IO = V01 + '[io.buildpacks]\nbuilder = "example/builder:1"\n'
IO_ONLY = '[io.buildpacks]\nbuilder = "example/builder:1"\n'  # schema 0.1: ignored
V02_PRE = V02 + '[[io.buildpacks.pre.group]]\nuri = "docker://example/bp-pre:1"\n'
V02_ID_PRE = V02_ID + '[[io.buildpacks.pre.group]]\nuri = "docker://example/bp-pre:1"\n'
V03_INLINE = (
    V03 + '[[io.buildpacks.group]]\nid = "example/inline"\n'
    '[io.buildpacks.group.script]\napi = "0.10"\ninline = "echo hi"\n'
)
V01_PKG = V01 + '[[build.buildpacks]]\nuri = "docker://example/bp-pkg:1"\n'
V02_LOCAL = V02 + '[[io.buildpacks.group]]\nuri = "local-bp"\n'
V02_LOCAL_PRE = V02 + '[[io.buildpacks.pre.group]]\nuri = "pre-bp"\n'
V01_PRE_CASE = V01 + '[[build.Pre.group]]\nuri = "docker://example/bp-pre:1"\n'  # no toml tag: any case
V03_VERSIONED = V03 + '[[io.buildpacks.group]]\nid = "heroku/python"\nversion = "1.0.0"\n'
V02_REGISTRY = V02 + '[[io.buildpacks.group]]\nid = "example/registry-bp"\nversion = "1.0.0"\n'

BUILDPACK_TOML = 'api = "0.10"\n[buildpack]\nid = "example/local"\nversion = "0.0.1"\n'
PACKAGE_DEP = '[buildpack]\nuri = "."\n[[dependencies]]\nuri = "docker://example/bp-dep:1"\n'
PACKAGE_LOCAL_DEP = '[buildpack]\nuri = "."\n[[dependencies]]\nuri = "../dep-bp"\n'
PACKAGE_TWO = '[buildpack]\nuri = "."\n[[dependencies]]\nuri = "docker://example/bp-two:1"\n'
LOCAL_BP = {"local-bp/buildpack.toml": BUILDPACK_TOML}

TRUST_REPO = '[[trusted-builders]]\nname = "example/builder"\n'
TRUST_OTHER_TAG = '[[trusted-builders]]\nname = "example/builder:2"\n'
TRUST_TAG = '[[trusted-builders]]\nname = "example/builder:1"\n'
TRUST_OTHER_REGISTRY = '[[trusted-builders]]\nname = "gcr.io/example/builder"\n'
RUN_CFG = '[[run-images]]\nimage = "mirror/run:1"\nmirrors = ["mirror/run-cfg:1"]\n'
RUN_CFG_ELSEWHERE = '[[run-images]]\nimage = "mirror/run:1"\nmirrors = ["{registry}/mirror/run-cfg:1"]\n'
HUB_MIRROR = '[registry-mirrors]\n"index.docker.io" = "{registry}"\n'
STAR_PATH_MIRROR = '[registry-mirrors]\n"*" = "{registry}/proxy"\n'
LIFECYCLE_CFG = 'lifecycle-image = "buildpacksio/lifecycle:0.20.5"\n'
DEFAULT_BUILDER = 'default-builder-image = "heroku/builder:24"\n'


@dataclass
class Case:
    command: str  # shell words after the program name
    images: set[str]  # the pull-log keys ppack must end with
    files: dict[str, str] = field(default_factory=dict)  # written under the app folder
    pack_config: str = ""
    pack_policy: str = "never"
    expected: str | None = None  # pack's argv; default: the command with --pull-policy after build
    present: tuple[str, ...] = ()  # put in the daemon (not by ppack) before the run
    label: str = ""  # tells apart cases whose command and files are the same

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.command)

    @property
    def id(self) -> str:
        extras = [*sorted(self.files), *(["config"] if self.pack_config else []), self.label]
        return " ".join([self.command, *(f"+{x}" for x in extras if x)])


def _never(command: str) -> str:
    return f"build --pull-policy never {command}"


PP = "--pull-policy"

CASES = [
    # The builder, every way pack accepts it.
    Case(f"build my-app -B {TRUSTED}", T),
    Case(f"build my-app --builder {TRUSTED}", T),
    Case(f"build my-app --builder={TRUSTED}", T),
    Case(f"build my-app -B{TRUSTED}", T),
    Case(f"build my-app -B={TRUSTED}", T),
    Case(f"build -B {TRUSTED} my-app", T),
    Case(f"build -q -B {TRUSTED} my-app", T),
    Case(f"-q build my-app -B {TRUSTED}", T),
    Case(f"build my-app -qB {TRUSTED}", T),
    Case(f"build my-app -vB {TRUSTED}", T),
    Case(f"--no-color build my-app -B {TRUSTED} --timestamps", T),
    Case(f"build -B {TRUSTED} -- my-app", T),
    # cobra hands flags before the command to the command: pack reads them as build flags.
    Case(f"-B {TRUSTED} build my-app", T),
    Case(f"{PP}=daily -q build my-app -B {TRUSTED}", T, expected=f"-q build {PP} never my-app -B {TRUSTED}"),
    # Trust decides the lifecycle image.
    Case(f"build my-app -B {UNTRUSTED}", U),
    Case(f"build my-app -B {UNTRUSTED} --trust-builder", {B_U, R_H}),
    Case(f"build my-app -B {UNTRUSTED} --trust-builder=false", U),
    Case(f"build my-app -B docker.io/{TRUSTED}", {B_T, R_H, LC}),
    Case(f"build my-app -B index.docker.io/{TRUSTED}", {B_T, R_H, LC}),
    Case(f"build my-app -B {UNTRUSTED}", {B_U, R_H}, pack_config=TRUST_REPO, label="repo"),
    Case(f"build my-app -B {UNTRUSTED}", U, pack_config=TRUST_OTHER_TAG, label="other-tag"),
    Case(f"build my-app -B {UNTRUSTED}", {B_U, R_H}, pack_config=TRUST_TAG, label="tag"),
    # A tagless entry matches the repository path on any registry.
    Case(f"build my-app -B {UNTRUSTED}", {B_U, R_H}, pack_config=TRUST_OTHER_REGISTRY, label="other-reg"),
    Case(
        "build my-app -B paketobuildpacks/builder-jammy-base",
        {
            f"{HUB}/paketobuildpacks/builder-jammy-base:latest",
            f"{HUB}/paketobuildpacks/run-jammy-base:latest",
        },
    ),
    Case(
        "build my-app -B paketobuildpacks/builder-jammy-base:latest",
        {
            f"{HUB}/paketobuildpacks/builder-jammy-base:latest",
            f"{HUB}/paketobuildpacks/run-jammy-base:latest",
            LC,
        },
    ),
    # --pull-policy in every spelling disappears; values that look like it stay.
    Case(f"build my-app -B {TRUSTED} {PP} daily", T, expected=_never(f"my-app -B {TRUSTED}")),
    Case(f"build my-app -B {TRUSTED} {PP}=weekly {PP} hourly", T, expected=_never(f"my-app -B {TRUSTED}")),
    Case(f"build my-app -B {TRUSTED} {PP} ''", T, expected=_never(f"my-app -B {TRUSTED}")),
    Case(f"build {PP} always my-app -B {TRUSTED}", T, expected=_never(f"my-app -B {TRUSTED}")),
    Case(f"build my-app -B {TRUSTED} -e BP_X=1 -e BP_Y=2,3", T),
    Case(f"build my-app -B {TRUSTED} --env=--pull-policy", T),
    Case(f"build my-app -B {TRUSTED} -e --pull-policy", T),
    Case(f"build my-app -B {TRUSTED} -t my-app:v1 -t my-app:latest", T),
    Case(f"build my-app -B {TRUSTED} --tag a:1,a:2", T),
    Case(
        f"build my-app -B {TRUSTED} --clear-cache --sbom-output-dir out --report-output-dir rep "
        "--creation-time now --exec-env test --previous-image my-app:prev",
        T,
    ),
    Case(
        f"build my-app -B {TRUSTED} --network host --volume /tmp:/x:ro --workspace /w --gid 1000 "
        "--uid 1000 -D web --env-file ci.env",
        T,
        files={"ci.env": "A=1\n"},
    ),
    Case(
        f"build my-app -B {TRUSTED} --docker-host inherit --insecure-registry reg.local:5000 --userns-host", T
    ),
    # Run images.
    Case(f"build my-app -B {TRUSTED} --run-image {RUN}", T),
    Case(f"build my-app -B {TRUSTED} --run-image other/run:1", {B_T, f"{HUB}/other/run:1"}),
    Case(
        "build my-app -B legacy/builder:1 --trust-builder", {f"{HUB}/legacy/builder:1", f"{HUB}/legacy/run:1"}
    ),
    Case(
        "build my-app -B mirror/builder:1 --trust-builder", {f"{HUB}/mirror/builder:1", f"{HUB}/mirror/run:1"}
    ),
    Case(
        "build my-app -B mirror/builder:1 --trust-builder",
        {f"{HUB}/mirror/builder:1", f"{HUB}/mirror/run-cfg:1"},
        pack_config=RUN_CFG,
    ),
    # A config mirror on another registry, already in the daemon, wins over the absent default…
    Case(
        "build my-app -B mirror/builder:1 --trust-builder",
        {f"{HUB}/mirror/builder:1", f"{REG}/mirror/run-cfg:1"},
        pack_config=RUN_CFG_ELSEWHERE,
        present=(f"{REG}/mirror/run-cfg:1",),
        label="cfg-mirror-present",
    ),
    # …but a present candidate on the builder's registry beats it, wherever it is in the list.
    Case(
        "build my-app -B mirror/builder:1 --trust-builder",
        {f"{HUB}/mirror/builder:1", f"{HUB}/mirror/run-alt:1"},
        pack_config=RUN_CFG_ELSEWHERE,
        present=(f"{REG}/mirror/run-cfg:1", "mirror/run-alt:1"),
        label="builder-registry-mirror-present",
    ),
    # Nothing present: the default run image, on the builder's registry, is what ppack pulls.
    Case(
        "build my-app -B mirror/builder:1 --trust-builder",
        {f"{HUB}/mirror/builder:1", f"{HUB}/mirror/run:1"},
        pack_config=RUN_CFG_ELSEWHERE,
        label="nothing-present",
    ),
    Case(
        f"build my-app -B {REG}/direct/builder:1 --trust-builder",
        {f"{REG}/direct/builder:1", f"{REG}/direct/run:1"},
    ),
    Case(
        f"build my-app -B {TRUSTED}",
        {f"{REG}/heroku/builder:24", f"{REG}/heroku/heroku:24"},
        pack_config=HUB_MIRROR,
    ),
    # A '*' mirror with a path: FetchForPlatform translates the lifecycle image twice (and the
    # builder too once --platform gives it a target); Fetch translates the run image once.
    Case(
        f"build my-app -B {UNTRUSTED}",
        {
            f"{REG}/proxy/example/builder:1",
            f"{REG}/proxy/heroku/heroku:24",
            f"{REG}/proxy/proxy/buildpacksio/lifecycle:0.21.0",
        },
        pack_config=STAR_PATH_MIRROR,
        label="star-mirror-with-path",
    ),
    Case(
        f"build my-app -B {UNTRUSTED} --platform linux/amd64",
        {
            f"{REG}/proxy/proxy/example/builder:1",
            f"{REG}/proxy/heroku/heroku:24",
            f"{REG}/proxy/proxy/buildpacksio/lifecycle:0.21.0",
        },
        pack_config=STAR_PATH_MIRROR,
    ),
    # Buildpacks.
    Case(f"build my-app -B {TRUSTED} -b docker://{PKG}", {*T, P1, LC}),
    Case(f"build my-app -B {TRUSTED} -b docker://{PKG} --trust-extra-buildpacks", {*T, P1}),
    Case(f"build my-app -B {TRUSTED} -b {PKG}", {*T, P1, LC}),
    Case(f"build my-app -B {TRUSTED} -b heroku/python", T),
    Case(f"build my-app -B {TRUSTED} -b heroku/python@1.0.0 -b heroku/procfile", T),
    Case(f"build my-app -B {TRUSTED} -b heroku/python,heroku/procfile", T),
    Case(f"build my-app -B {TRUSTED} -b urn:cnb:builder:heroku/python", T),
    Case(f"build my-app -B {TRUSTED} -b from=builder:heroku/python@1.0.0", T),
    Case(f"build my-app -B {TRUSTED} -b from=builder -b docker://{PKG}", {*T, P1, LC}),
    Case(f"build my-app -B {TRUSTED} -b ./local-bp", {*T, LC}, files=LOCAL_BP),
    Case(
        f"build my-app -B {TRUSTED} -b ./local-bp",
        {*T, LC, DEP},
        files={**LOCAL_BP, "local-bp/package.toml": PACKAGE_DEP},
    ),
    # A dependency that is itself a folder with a package.toml: pack does not recurse.
    Case(
        f"build my-app -B {TRUSTED} -b ./local-bp",
        {*T, LC},
        files={
            **LOCAL_BP,
            "local-bp/package.toml": PACKAGE_LOCAL_DEP,
            "dep-bp/buildpack.toml": BUILDPACK_TOML,
            "dep-bp/package.toml": PACKAGE_TWO,
        },
    ),
    # file:// names a folder, but pack looks for "file:/…/package.toml": no dependencies.
    Case(
        f"build my-app -B {TRUSTED} -b file://{{app}}/local-bp",
        {*T, LC},
        files={**LOCAL_BP, "local-bp/package.toml": PACKAGE_DEP},
    ),
    # A quoted CSV field keeps its commas: one local buildpack named "bp,one".
    Case(
        f"""build my-app -B {TRUSTED} -b '"bp,one"'""",
        {*T, LC},
        files={"bp,one/buildpack.toml": BUILDPACK_TOML},
    ),
    Case(f"""build my-app -B {TRUSTED} -b 'heroku/python,"docker://{PKG}"'""", {*T, P1, LC}),
    Case(f"build my-app -B {TRUSTED} -b docker://{PKG},docker:/example/bp-two:1", {*T, P1, P2, LC}),
    Case(f"build my-app -B {TRUSTED} -b example/registry-bp@1.0.0", {*T, LC, "example/registry-bp@1.0.0"}),
    Case(f"build my-app -B {TRUSTED} -b example/registry-bp", {*T, LC, "example/registry-bp"}),
    Case(
        f"build my-app -B {TRUSTED} -b urn:cnb:registry:example/registry-bp@1.0.0",
        {*T, LC, "urn:cnb:registry:example/registry-bp@1.0.0"},
    ),
    Case(f"build my-app -B {TRUSTED} --pre-buildpack docker://example/bp-pre:1", {*T, LC, PRE}),
    Case(f"build my-app -B {TRUSTED} --post-buildpack example/bp-pre:1 --trust-extra-buildpacks", {*T, PRE}),
    Case(f"build my-app -B {TRUSTED} -b heroku/python --post-buildpack docker://example/bp-pre:1", T),
    # A builder without an order: pack ignores pre/post buildpacks.
    Case(
        "build my-app -B noorder/builder:1 --trust-builder --pre-buildpack docker://example/bp-pre:1",
        {f"{HUB}/noorder/builder:1", R_H},
    ),
    # --publish: the run image and packages come from the registry.
    Case(f"build my-app -B {TRUSTED} --publish", {B_T}),
    Case(f"build my-app -B {TRUSTED} --publish=false", T),
    Case(f"build my-app -B {UNTRUSTED} --publish", {B_U, LC}),
    Case(f"build my-app -B {UNTRUSTED} --publish -b docker://{PKG}", {B_U, LC}),
    Case(f"build my-app -B {TRUSTED} --publish --cache-image my-app-cache", {B_T}),
    # Platform and lifecycle versions.
    Case(f"build my-app -B {TRUSTED} --platform linux/amd64", T),
    Case(f"build my-app -B {UNTRUSTED} --platform linux/amd64", U),
    Case(
        f"build my-app -B {UNTRUSTED} --lifecycle-image buildpacksio/lifecycle:0.20.5",
        {B_U, R_H, LC_205},
    ),
    Case(
        f"build my-app -B {UNTRUSTED}", {B_U, R_H, LC_205}, pack_config=LIFECYCLE_CFG, label="lifecycle-image"
    ),
    # An explicitly empty --lifecycle-image beats the config's default.
    Case(f"build my-app -B {UNTRUSTED} --lifecycle-image=", U, pack_config=LIFECYCLE_CFG),
    Case("build my-app -B old/builder:1 --trust-builder", {f"{HUB}/old/builder:1", R_H}),
    Case(
        "build my-app -B old061/builder:1",
        {f"{HUB}/old061/builder:1", R_H, f"{HUB}/buildpacksio/lifecycle:0.6.1"},
    ),
    Case(
        "build my-app -B short/builder:1",
        {f"{HUB}/short/builder:1", R_H, f"{HUB}/buildpacksio/lifecycle:0.20.0"},
    ),
    Case("build my-app -B vpre/builder:1", {f"{HUB}/vpre/builder:1", R_H, LC_205}),
    Case(
        "build my-app -B rc/builder:1",
        {f"{HUB}/rc/builder:1", R_H, f"{HUB}/buildpacksio/lifecycle:0.21.0-rc.1"},
    ),
    Case("build my-app -B meta/builder:1 --trust-builder", {f"{HUB}/meta/builder:1", R_H}),
    Case(
        "build my-app -B meta/builder:1 --lifecycle-image buildpacksio/lifecycle:0.21.0",
        {f"{HUB}/meta/builder:1", R_H, LC},
    ),
    # 0.7.5-rc.1 < 0.7.5: no lifecycle image; a trusted builder runs the 5 phases itself.
    Case(
        f"build my-app -B rc075/builder:1 --trust-builder -b docker://{PKG}",
        {f"{HUB}/rc075/builder:1", R_H, P1},
    ),
    # Extensions: pack insists on --pull-policy always.
    Case("build my-app -B ext/builder:1", {f"{HUB}/ext/builder:1", R_H, LC}, pack_policy="always"),
    Case(
        f"build my-app -B {TRUSTED} --extension docker://example/ext-pkg:1",
        {*T, LC, EXT},
        pack_policy="always",
    ),
    Case(f"build my-app -B {TRUSTED} --extension example/ext-pkg:1", {*T, LC, EXT}, pack_policy="always"),
    # An extension already on the builder is not fetched: the creator still runs, no lifecycle image.
    Case(
        "build my-app -B extid/builder:1 --trust-builder --extension example/ext@1.0.0",
        {f"{HUB}/extid/builder:1", R_H},
        pack_policy="always",
    ),
    # The builder from pack's config and from project.toml.
    Case("build my-app", T, pack_config=DEFAULT_BUILDER),
    Case("build my-app", T, files={"project.toml": V01}, label="v01"),
    Case("build my-app", T, files={"project.toml": V02}, label="v02"),
    Case("build my-app", {*T, P1, LC}, files={"project.toml": V03_PKG}, label="v03-pkg"),
    Case("build my-app", T, files={"project.toml": V02_ID}, label="v02-id"),
    Case("build my-app", T, files={"project.toml": V03_VERSIONED}, label="v03-versioned"),
    Case(
        "build my-app",
        {*T, LC, "example/registry-bp@1.0.0"},
        files={"project.toml": V02_REGISTRY},
        label="v02-registry",
    ),
    Case("build my-app", T, files={"project.toml": V01_WITH_IO}, label="v01-with-io"),
    # Schema 0.1 (no version) ignores [io.buildpacks]: the builder comes from pack's config.
    Case("build my-app", T, files={"project.toml": IO_ONLY}, pack_config=DEFAULT_BUILDER),
    Case(f"build my-app -B {UNTRUSTED}", U, files={"project.toml": V02}),
    Case("build my-app -d ci/project.toml", T, files={"ci/project.toml": V02}),
    Case("build my-app -d {app}/ci/project.toml", T, files={"ci/project.toml": V02}),
    Case("build my-app --path src", T, files={"src/project.toml": V01}),
    Case(
        "build my-app -p src --descriptor project.toml",
        {*T, P1, LC},
        files={"project.toml": V03_PKG, "src/project.toml": V01},
    ),
    Case("build my-app", {*T, LC, PRE}, files={"project.toml": V02_PRE}, label="v02-pre"),
    Case("build my-app", {*T, LC, PRE}, files={"project.toml": V01_PRE_CASE}, label="v01-pre-case"),
    Case("build my-app", T, files={"project.toml": V02_ID_PRE}, label="v02-id-pre"),
    # --pre-buildpack replaces project.toml's pre group.
    Case("build my-app --pre-buildpack heroku/python", T, files={"project.toml": V02_PRE}),
    Case("build my-app", T, files={"project.toml": V03_INLINE}, label="v03-inline"),
    Case("build my-app", {*T, P1, LC}, files={"project.toml": V01_PKG}, label="v01-pkg"),
    Case("build my-app", {*T, LC}, files={"project.toml": V02_LOCAL, **LOCAL_BP}),
    # Pre/post entries resolve against the CWD, not the descriptor's folder: ./pre-bp has no
    # package.toml, so ci/pre-bp's dependencies are never read.
    Case(
        "build my-app -d ci/project.toml",
        {*T, LC},
        files={
            "ci/project.toml": V02_LOCAL_PRE,
            "ci/pre-bp/buildpack.toml": BUILDPACK_TOML,
            "ci/pre-bp/package.toml": PACKAGE_DEP,
            "pre-bp/buildpack.toml": BUILDPACK_TOML,
        },
    ),
]


def _fill(text: str, registry: str, app: Path) -> str:
    return text.replace("{registry}", registry).replace("{app}", str(app))


@dataclass
class Universe:
    host: str  # the test registry as a registry name: 127.0.0.1:PORT
    registry_bp_digest: str = ""


def _publish_labelled_builder(registry: Registry, name: str, labels: dict[str, str]) -> None:
    publish_image(None, registry, name, labels=labels, env={"CNB_USER_ID": "1000", "CNB_GROUP_ID": "1000"})


def publish_universe(registry: Registry) -> Universe:
    host = registry.host
    universe = Universe(host)
    publish_builder(registry, TRUSTED, RUN)
    publish_builder(registry, UNTRUSTED, RUN)
    publish_image(None, registry, RUN, labels=run_image_labels())
    publish_image(None, registry, "other/run:1", labels=run_image_labels())
    for version in ("0.21.0", "0.20.5", "0.20.0", "0.6.1", "0.21.0-rc.1"):
        publish_image(None, registry, f"buildpacksio/lifecycle:{version}", labels=lifecycle_labels(version))
    publish_builder(registry, "legacy/builder:1", "legacy/run:1", legacy_stack=True)
    publish_image(None, registry, "legacy/run:1", labels=run_image_labels())
    versions = {"old": "0.7.4", "old061": "0.6.1", "short": "0.20", "vpre": "v0.20.5"}
    versions |= {"rc": "0.21.0-rc.1", "meta": "0.21.0+build.7", "rc075": "0.7.5-rc.1"}
    for repo, version in versions.items():
        publish_builder(registry, f"{repo}/builder:1", RUN, lifecycle_version=version)
    ext = [{"id": "example/ext", "version": "1.0.0"}]
    publish_builder(registry, "ext/builder:1", RUN, order_extensions=ext)
    labels = builder_labels(RUN, order_extensions=ext)
    metadata = json.loads(labels["io.buildpacks.builder.metadata"])
    metadata["extensions"] = ext
    labels["io.buildpacks.builder.metadata"] = json.dumps(metadata)
    _publish_labelled_builder(registry, "extid/builder:1", labels)
    labels = builder_labels(RUN)
    del labels["io.buildpacks.buildpack.order"]
    _publish_labelled_builder(registry, "noorder/builder:1", labels)
    publish_builder(registry, "mirror/builder:1", "mirror/run:1", run_mirrors=["mirror/run-alt:1"])
    for name in ("mirror/run:1", "mirror/run-alt:1", "mirror/run-cfg:1"):
        publish_image(None, registry, name, labels=run_image_labels())
    publish_builder(
        registry, f"{host}/direct/builder:1", "direct/run:1", run_mirrors=[f"{host}/direct/run:1"]
    )
    publish_image(None, registry, "direct/run:1", labels=run_image_labels())
    # Under '*' = "<registry>/proxy": the names pack computes.
    publish_builder(registry, f"{host}/proxy/example/builder:1", RUN)
    publish_builder(registry, f"{host}/proxy/proxy/example/builder:1", RUN)
    publish_image(None, registry, f"{host}/proxy/heroku/heroku:24", labels=run_image_labels())
    publish_image(
        None, registry, f"{host}/proxy/proxy/buildpacksio/lifecycle:0.21.0", labels=lifecycle_labels()
    )
    publish_builder(registry, "paketobuildpacks/builder-jammy-base", "paketobuildpacks/run-jammy-base:latest")
    publish_image(None, registry, "paketobuildpacks/run-jammy-base:latest", labels=run_image_labels())
    for name in (PKG, "example/bp-two:1", "example/bp-dep:1", "example/bp-pre:1", "example/ext-pkg:1"):
        publish_image(None, registry, name, labels=package_labels(name.split(":")[0], "1.0.0"))
    universe.registry_bp_digest = publish_image(
        None, registry, "example/registry-bp-img:1.0.0", labels=package_labels("example/registry-bp", "1.0.0")
    )
    return universe


@pytest.fixture(scope="module")
def universe(registry: Registry) -> Universe:
    return publish_universe(registry)


def _expected_argv(case: Case) -> list[str]:
    if case.expected is not None:
        return shlex.split(case.expected)
    argv = case.argv
    index = argv.index("build")
    return [*argv[: index + 1], "--pull-policy", case.pack_policy, *argv[index + 1 :]]


def _put_in_daemon(dockerd: Dockerd, name: str) -> None:
    repository, _, tag = name.rpartition(":")
    for message in dockerd.api.pull(repository, tag=tag, stream=True, decode=True):
        assert "error" not in message, message


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_corpus(
    case: Case, engine_workspace: Workspace, dockerd: Dockerd, universe: Universe, tmp_path: Path
) -> None:
    ws = engine_workspace

    def fill(text: str) -> str:
        return _fill(text, universe.host, ws.app)

    for name, text in case.files.items():
        (ws.app / name).parent.mkdir(parents=True, exist_ok=True)
        (ws.app / name).write_text(fill(text))
    if case.pack_config:
        ws.pack_config(fill(case.pack_config))
    for name in case.present:
        _put_in_daemon(dockerd, fill(name))
    index_file = tmp_path / "registry-index.json"
    address = f"docker.io/example/registry-bp-img@{universe.registry_bp_digest}"
    index_file.write_text(json.dumps({"example/registry-bp": {"1.0.0": address}}))
    argv = [fill(arg) for arg in case.argv]
    run = ws.run(*argv, env={"FAKEPACK_REGISTRY_INDEX": str(index_file)})
    assert run.returncode == 0, f"{case.id}\n{run.stdout}\n{run.stderr}"
    build_calls = [c for c in run.pack_calls if "build" in c["argv"]]
    assert build_calls, run.stderr
    assert build_calls[-1]["argv"][1:] == [fill(arg) for arg in _expected_argv(case)]
    assert build_calls[-1]["exit"] == 0
    assert set(ws.records()) == {fill(image) for image in case.images}, case.id


def test_the_corpus_is_large_and_distinct() -> None:
    assert len({case.id for case in CASES}) == len(CASES)
    assert len({case.command for case in CASES}) >= 60
    projects = {text for case in CASES for name, text in case.files.items() if name.endswith("project.toml")}
    assert len(projects) >= 10


# ------------------------------------------------------------------ locators, without a daemon

BUILDER_MODULES = [ModuleInfo("heroku/python", "1.0.0"), ModuleInfo("heroku/procfile", "4.0.0")]
PLANNER_KIND = {
    Locator.FROM_BUILDER: "from-builder",
    Locator.ID: "builder",
    Locator.REGISTRY: "registry",
    Locator.PACKAGE: "package",
    Locator.URI: "uri",
    Locator.INVALID: "invalid",
}
LOCATORS = [
    "from=builder",
    "from=builder:heroku/python",
    "urn:cnb:builder:heroku/python@1.0.0",
    "urn:cnb:registry:example/foo@1.0.0",
    "heroku/python",
    "heroku/python@1.0.0",
    "heroku/python@2.0.0",
    "heroku/python@1.0.0@x",
    "example/registry-cnb",
    "example/foo@1.0.0",
    "example/foo@1.0",
    "cnbs/sample-package@hello-universe",
    "cnbs/some-bp:latest",
    "registry.com/cnbs/some-bp",
    "localhost:1234/example/package-cnb",
    "ubuntu",
    "Ubuntu",
    "docker://example/bp:1",
    "docker:/example/bp:1",
    "docker://localhost:5000/example/bp:1",
    "docker://127.0.0.1:5000/example/bp",
    "docker://Example/bp",
    "docker://example/bp@sha256:" + "a" * 64,
    "https://example.com/bp.tgz",
    "file:///tmp/bp",
    "./local-bp",
    "local-bp",
    "missing-dir",
]


@pytest.mark.parametrize("locator", LOCATORS)
def test_planner_classifies_locators_as_the_stand_in_does(locator: str, tmp_path: Path) -> None:
    """The planner and the stand-in, written apart, agree on pack's locator rules."""
    (tmp_path / "local-bp").mkdir()
    expected = PLANNER_KIND[locator_type(locator, str(tmp_path), BUILDER_MODULES)]
    ids = frozenset({"heroku/python", "heroku/python@1.0.0", "heroku/procfile", "heroku/procfile@4.0.0"})
    assert planner.classify(locator, ids, tmp_path)[0] == expected
