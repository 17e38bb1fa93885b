"""The stand-in's command line: pack's root and ``build`` commands, cobra-style."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence

from packsim.build import build, request_from
from packsim.config import docker_host, read_config
from packsim.flags import Flag, FlagError, FlagSet, Kind
from packsim.output import Log, PackError, SoftError, wrapped
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
    command = _command(argv, root)
    if command is None:
        parsed = root.parse(argv)
        if parsed.flag("version"):
            print(VERSION)
        else:
            print(ROOT_HELP, end="")
        return 0
    if command != "build":
        print(f"fakepack: {command}")
        return 0
    args = argv[:]
    args.remove("build")
    parsed = FlagSet([*GLOBAL, *BUILD]).parse(args)
    if parsed.flag("help"):
        print(BUILD_HELP, end="")
        return 0
    if len(parsed.args) != 1:
        raise FlagError(f"accepts 1 arg(s), received {len(parsed.args)}")
    log = Log(parsed.flag("quiet"), parsed.flag("verbose"), parsed.flag("timestamps"))
    config = read_config()
    policy = parsed.string("pull-policy") or config.pull_policy
    if policy not in POLICIES:
        raise PackError(f"parsing pull policy {parsed.string('pull-policy')}: invalid pull policy {policy}")
    descriptor, descriptor_path = find_descriptor(
        parsed.string("path") or ".", parsed.string("descriptor"), log
    )
    request = request_from(parsed, config, descriptor, descriptor_path)
    if not request.builder:
        print(SUGGESTIONS, end="")
        raise SoftError
    from packsim.daemon import Daemon

    daemon = Daemon(docker_host(), policy or "always", config.registry_mirrors)
    try:
        with wrapped("failed to build"):
            build(request, config, daemon)
    finally:
        record["daemon_images"] = daemon.read
    log.info(f"Successfully built image '{request.app_image}'")
    return 0


def _command(argv: list[str], root: FlagSet) -> str | None:
    """cobra's Find: the first argument that is not a (root, bool) flag."""
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-") or arg == "-":
            return arg
    return None
