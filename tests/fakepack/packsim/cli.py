"""The stand-in's command line: pack's root and ``build`` commands, cobra-style."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence

from packsim.build import build, request_from, trusted
from packsim.config import PackConfig, docker_host, read_config
from packsim.flags import Flag, FlagError, FlagSet, Kind, Parsed
from packsim.output import Log, PackError, SoftError, symbol, wrapped
from packsim.project import find_descriptor


VERSION = "0.40.5+git-7640af9.build-6868"

GLOBAL = [
    Flag("no-color", Kind.BOOL),
    Flag("force-color", Kind.BOOL),
    Flag("timestamps", Kind.BOOL),
    Flag("quiet", Kind.BOOL, "q"),
    Flag("verbose", Kind.BOOL, "v"),
    Flag("help", Kind.BOOL, "h"),
]
_S, _B, _SL, _A, _I = Kind.STRING, Kind.BOOL, Kind.SLICE, Kind.ARRAY, Kind.INT
BUILD = [
    Flag("path", _S, "p"), Flag("buildpack", _SL, "b"), Flag("extension", _SL),
    Flag("insecure-registry", _A), Flag("builder", _S, "B"), Flag("cache", _A),
    Flag("cache-image", _S), Flag("clear-cache", _B), Flag("creation-time", _S),
    Flag("descriptor", _S, "d"), Flag("default-process", _S, "D"),
    Flag("disable-system-buildpacks", _B), Flag("env", _A, "e"), Flag("env-file", _A),
    Flag("network", _S), Flag("pre-buildpack", _A), Flag("post-buildpack", _A),
    Flag("publish", _B), Flag("docker-host", _S), Flag("lifecycle-image", _S),
    Flag("platform", _S), Flag("pull-policy", _S), Flag("exec-env", _S),
    Flag("buildpack-registry", _S, "r"), Flag("run-image", _S), Flag("tag", _SL, "t"),
    Flag("trust-builder", _B), Flag("trust-extra-buildpacks", _B), Flag("volume", _A),
    Flag("workspace", _S), Flag("gid", _I), Flag("uid", _I), Flag("previous-image", _S),
    Flag("sbom-output-dir", _S), Flag("report-output-dir", _S), Flag("interactive", _B),
    Flag("sparse", _B), Flag("userns-host", _B),
]  # fmt: skip
ROOT_HELP = """CLI for building apps using Cloud Native Buildpacks

Usage:
  pack [command]

Available Commands:
  build                 Generate app image from source code
  builder               Interact with builders
  buildpack             Interact with buildpacks
  config                Interact with your local pack config file
  help                  Help about any command
"""
BUILD_HELP = """Pack Build uses Cloud Native Buildpacks to create a runnable app image from source code.

Usage:
  pack build <image-name> [flags]

Flags:
  -B, --builder string       Builder image
      --pull-policy string   Pull policy to use. Accepted values are always, never, and if-not-present. (default "always")
"""
SUGGESTIONS = """Please select a default builder with:

\tpack config default-builder <builder-image>

Suggested builders:
\tGoogle:                gcr.io/buildpacks/builder:google-22
\tHeroku:                heroku/builder:24
\tPaketo Buildpacks:     paketobuildpacks/builder-jammy-base

Tip: Learn more about a specific builder with:
\tpack builder inspect <builder-image>
"""
POLICIES = ("always", "never", "if-not-present", "")


def main(argv: Sequence[str]) -> int:
    record: dict[str, object] = {"argv": [sys.argv[0], *argv], "cwd": os.getcwd(), "daemon_images": []}
    record["env"] = {k: os.environ.get(k, "") for k in ("DOCKER_HOST", "PACK_HOME")}
    code = 0
    try:
        if os.environ.get("FAKEPACK_FAST") != "1":
            code = _dispatch(list(argv), record)
    except PackError as error:
        sys.stderr.write(f"ERROR: {error.message}\n")
        if error.tip:
            print(f"Tip: {error.tip}")
        code = 1
    except SoftError:
        code = 2
    except FlagError as error:
        sys.stderr.write(f"Error: {error}\n")
        code = 1
    finally:
        record["exit"] = code
        _record(record)
    return code


def _record(record: dict[str, object]) -> None:
    path = os.environ.get("FAKEPACK_RECORD", "")
    if path:
        with open(path, "a", encoding="utf-8") as file:
            file.write(json.dumps(record) + "\n")


def _dispatch(argv: list[str], record: dict[str, object]) -> int:
    root = FlagSet([*GLOBAL, Flag("version", Kind.BOOL)])
    command_at = _command(argv, root)
    if command_at is None:
        parsed = root.parse(argv)
        if parsed.flag("version"):
            print(VERSION)
        else:
            print(ROOT_HELP, end="")
        return 0
    command = argv[command_at]
    if argv[command_at:][:2] == ["buildpack", "pull"]:
        return _buildpack_pull(argv[:command_at] + argv[command_at + 2 :], record)
    if command != "build":
        print(f"fakepack: {command}")
        return 0
    args = argv[:command_at] + argv[command_at + 1 :]
    parsed = FlagSet([*GLOBAL, *BUILD]).parse(args)
    if parsed.flag("help"):
        print(BUILD_HELP, end="")
        return 0
    if len(parsed.args) != 1:
        raise FlagError(f"accepts 1 arg(s), received {len(parsed.args)}")
    log = Log(parsed.flag("quiet"), parsed.flag("verbose"), parsed.flag("timestamps"))
    config = read_config()
    _validate_build_flags(parsed, config)
    descriptor, descriptor_path = find_descriptor(
        parsed.string("path") or ".", parsed.string("descriptor"), log
    )
    request = request_from(parsed, config, descriptor, descriptor_path)
    if not request.builder:
        print(SUGGESTIONS, end="")
        raise SoftError
    _env_files(parsed.strings("env-file"))
    trusted(request.builder, config, request.trust_builder)  # a name that does not parse fails here
    policy = parsed.string("pull-policy") or config.pull_policy
    if policy not in POLICIES:
        raise PackError(f"parsing pull policy {parsed.string('pull-policy')}: invalid pull policy {policy}")
    _creation_time(parsed.string("creation-time"))
    from packsim.daemon import Daemon

    daemon = Daemon(docker_host(), policy or "always", config.registry_mirrors)
    try:
        with wrapped("failed to build"):
            _app_path(parsed.string("path"))
            build(request, config, daemon)
    finally:
        record["daemon_images"] = daemon.read
    log.info(f"Successfully built image '{request.app_image}'")
    return 0


def _validate_build_flags(parsed: Parsed, config: PackConfig) -> None:
    """validateBuildFlags (internal/commands/build.go:312-363), the checks that need no cache parsing."""
    registry = (
        parsed.string("buildpack-registry")
        if parsed.was_set("buildpack-registry")
        else config.default_registry
    )
    if registry and not config.experimental:
        raise PackError(
            "Support for buildpack registries is currently experimental.",
            tip=f"To enable experimental features, run `pack config experimental true` to add "
            f"'experimental = true' to '{config.path}'.",
        )
    if parsed.string("cache-image") and not parsed.flag("publish"):
        raise PackError("cache-image flag requires the publish flag")
    for flag in ("gid", "uid"):
        if parsed.integer(flag) < 0:
            raise PackError(f"{flag} flag must be in the range of 0-2147483647")
    exec_env = parsed.string("exec-env") if parsed.was_set("exec-env") else "production"
    if exec_env and not re.fullmatch(r"[a-zA-Z0-9.-]+", exec_env):
        raise PackError("exec-env MUST only contain numbers, letters, and the characters: . or -")


def _env_files(paths: list[str]) -> None:
    for path in paths:
        if not os.path.isfile(path):
            raise PackError(f"failed to parse env file '{path}': open {path}: no such file or directory")


def _creation_time(value: str) -> None:
    if value in ("", "now"):
        return
    if not re.fullmatch(r"[+-]?[0-9]+", value):
        raise PackError(
            f'parsing creation time {value}: parsing unix timestamp: strconv.ParseInt: parsing "{value}": '
            "invalid syntax"
        )


def _app_path(path: str) -> None:
    """processAppPath (pkg/client/build.go:1075-1111): a folder or a zip file."""
    resolved = os.path.abspath(path or os.getcwd())
    if not os.path.exists(resolved):
        raise PackError(
            f"invalid app path '{path}': evaluate symlink: lstat {resolved}: no such file or directory"
        )
    if not os.path.isdir(resolved):
        with open(resolved, "rb") as file:
            if file.read(4) != b"PK\x03\x04":
                raise PackError(f"invalid app path '{path}': app path must be a directory or zip")


def _buildpack_pull(args: list[str], record: dict[str, object]) -> int:
    """``pack buildpack pull <uri>``: always pulls (pkg/client/pull_buildpack.go)."""
    from packsim.daemon import Daemon
    from packsim.locators import Locator, locator_type, package_image, resolve_registry_buildpack

    parsed = FlagSet([*GLOBAL, Flag("buildpack-registry", Kind.STRING, "r")]).parse(args)
    if len(parsed.args) != 1:
        raise FlagError(f"accepts 1 arg(s), received {len(parsed.args)}")
    locator = parsed.args[0]
    found = locator_type(locator, "", [])
    if found is Locator.REGISTRY:
        with wrapped(f"locating in registry {symbol(locator)}"):
            image = resolve_registry_buildpack(locator)
    elif found is Locator.PACKAGE:
        image = package_image(locator)
    elif found is Locator.INVALID:
        raise PackError(f"invalid buildpack URI {symbol(locator)}")
    else:
        raise PackError(f"unsupported buildpack URI type: {symbol(found.value)}")
    daemon = Daemon(docker_host(), "always", read_config().registry_mirrors)
    try:
        with wrapped(f"fetching image {symbol(locator)}"):
            daemon.fetch(image)
    finally:
        record["daemon_images"] = daemon.read
    print(f"Successfully pulled {symbol(locator)}")
    return 0


def _command(argv: list[str], root: FlagSet) -> int | None:
    """
    cobra's Find (command.go stripFlags): skip flags, and the next argument after a
    flag without '=' unless the root knows it as a bool; the first word left is the command.
    """
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            return None
        takes_next = "=" not in arg and (
            (arg.startswith("--") and not _root_bool(root, arg[2:], long=True))
            or (
                not arg.startswith("--")
                and arg.startswith("-")
                and len(arg) == 2
                and not _root_bool(root, arg[1:], long=False)
            )
        )
        if takes_next:
            index += 2
        elif arg.startswith("-") or not arg:
            index += 1
        else:
            return index
    return None


def _root_bool(root: FlagSet, name: str, *, long: bool) -> bool:
    flag = root.by_name.get(name) if long else root.by_short.get(name)
    return flag is not None and flag.kind is Kind.BOOL
