"""
The command line: a thin dispatcher over pack's own argv.

``ppack build …`` refreshes images then becomes ``pack build --pull-policy never …``;
``ppack pull-log …`` is ppack's own command; everything else is plain pack.
pack's arguments are scanned with pack's flag table (ppack.commandline), never
parsed by click, so nothing the user typed is lost on the way to pack.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn

from ppack import __version__
from ppack.commandline import Scan, scan, without_ppack_flags
from ppack.handover import ACTIVE_ENV, find_pack, hand_over
from ppack.messages import Exit, PpackError, Reporter, UsageError, Verbosity, wants_color


OWN_COMMANDS = ("pull-log",)

HELP_NOTE = """\
ppack {version}: pack, with pull policies on a schedule.

Every pack command works as it does with pack. `ppack build` adds:
  --pull-policy always|if-not-present|never   as in pack
  --pull-policy hourly|daily|weekly           pull an image again once that much time
                                              has passed since ppack last pulled it
  --pull-policy interval=<duration>           the same, with a duration such as 12h,
                                              1w2d or 90m (units w, d, h, m)
  --dry-run                                   print the plan and pack's command line
                                              without pulling or building
ppack pulls what is due (in parallel), then runs `pack build --pull-policy never`.

Commands of its own:
  ppack pull-log [--json|--all-daemons|forget IMAGE…|clear|prune]

Environment:
  PPACK_PULL_POLICY    policy when --pull-policy is not given (default: daily)
  PPACK_PULL_TIMEOUT   seconds a pull may go without progress (default: 300)
  PPACK_MAX_PARALLEL   how many images pull at once (default: 4)
  PPACK_PACK           the pack executable to run (default: pack on PATH)
  PPACK_CONFIG         ppack's config file (pull-policy, pull-timeout)
  PACK_HOME            pack's home; the pull log is $PACK_HOME/ppack-pull-log.json
  DOCKER_HOST          the daemon, found as pack finds it

pack's own help follows.
"""


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> NoReturn:
    """Entry point of the ``ppack`` console script and ``python -m ppack``."""
    args = list(sys.argv[1:] if argv is None else argv)
    environ = dict(os.environ if env is None else env)
    result = scan(args)
    reporter = _reporter(result)
    try:
        sys.exit(_dispatch(args, result, environ, reporter))
    except PpackError as error:
        reporter.error(error.message)
        sys.exit(error.exit_code)
    except BrokenPipeError:
        # `ppack pull-log | head`: the reader left. Go programs such as pack die of SIGPIPE here.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(128 + 13)
    except KeyboardInterrupt:
        reporter.error("interrupted")
        sys.stderr.flush()
        # Pull threads may still be streaming; nothing more is recorded, so leave now.
        os._exit(Exit.INTERRUPTED)


def _reporter(result: Scan) -> Reporter:
    verbosity = Verbosity.NORMAL
    if result.enabled("quiet"):
        verbosity = Verbosity.QUIET
    elif result.enabled("verbose"):
        verbosity = Verbosity.VERBOSE
    color = wants_color(
        sys.stderr, no_color=result.enabled("no-color"), force_color=result.enabled("force-color")
    )
    return Reporter(verbosity=verbosity, color=color, timestamps=result.enabled("timestamps"))


def _dispatch(args: list[str], result: Scan, env: dict[str, str], reporter: Reporter) -> int:
    if env.get(ACTIVE_ENV):
        raise PpackError(
            "ppack was started by the pack it handed over to: the `pack` it found is a wrapper "
            "that runs ppack again. Set PPACK_PACK to the real pack executable."
        )
    if "_PPACK_COMPLETE" in env:
        _completion()
    command = result.command[0] if result.command else ""
    if command in OWN_COMMANDS:
        from ppack.pulllog_cli import run_pull_log

        return run_pull_log(args[result.command_index or 0 :], env)
    if not command and not result.problem:
        if result.enabled("version"):
            return _version(env)
        if result.enabled("help"):
            sys.stdout.write(HELP_NOTE.format(version=__version__))
    if command == "build" and not result.problem:
        return _build(result, env, reporter)
    if command == "build" and _asks_dry_run(args):
        # pack does not know --dry-run; say what is wrong rather than let pack call it unknown.
        raise UsageError(f"{result.problem} (ppack build --dry-run pulled and ran nothing)")
    # Anything else, including command lines pack would reject: pack has the last word.
    hand_over(find_pack(env), args, env)


def _asks_dry_run(args: list[str]) -> bool:
    flags = args[: args.index("--")] if "--" in args else args
    return "--dry-run" in flags


def _version(env: Mapping[str, str]) -> int:
    import subprocess

    sys.stdout.write(f"ppack {__version__}\n")
    sys.stdout.flush()
    try:
        pack = find_pack(env)
    except PpackError as error:
        sys.stdout.write(f"pack: not found ({error.message})\n")
        return Exit.OK
    done = subprocess.run([pack, "--version"], capture_output=True, text=True, check=False)
    sys.stdout.write(f"pack {done.stdout.strip() or '(unknown version)'}\n")
    return done.returncode


def _build(result: Scan, env: dict[str, str], reporter: Reporter) -> int:
    from ppack.build import prepare_build, working_directory
    from ppack.refresher import now_utc

    if result.enabled("help"):
        return _build_help(find_pack(env), without_ppack_flags(result), env)
    found: list[str] = []

    def pack() -> str:
        if not found:
            found.append(find_pack(env))
        return found[0]

    handover = prepare_build(
        result,
        env,
        cwd=working_directory(),
        clock=now_utc,
        reporter=reporter,
        find_pack=pack,
    )
    if handover is None:
        return Exit.OK
    hand_over(pack(), handover.args, env)


BUILD_HELP_NOTE = """
ppack additions:
  --pull-policy string   always, if-not-present, never (as pack), or
                         hourly, daily, weekly, interval=<duration> (e.g. 12h, 1w2d, 90m):
                         pull an image again once that long has passed since ppack last pulled it
                         (default from PPACK_PULL_POLICY, ppack's config, pack's config, else daily)
      --dry-run          print each image, why pack needs it, its last pull and the decision,
                         and pack's command line; pull and build nothing

Environment: PPACK_PULL_POLICY, PPACK_PULL_TIMEOUT, PPACK_MAX_PARALLEL, PPACK_PACK, PPACK_CONFIG,
             PACK_HOME, DOCKER_HOST
Files: $PACK_HOME/ppack-pull-log.json (the pull log), {config} (ppack's config)
"""


def _build_help(pack: str, args: list[str], env: Mapping[str, str]) -> int:
    """pack's own help, then what ppack adds; pack must run as a child to print after it."""
    import subprocess

    from ppack.settings import ppack_config_path

    sys.stdout.flush()
    code = subprocess.run([pack, *args], env={**env, ACTIVE_ENV: "1"}, check=False).returncode
    sys.stdout.write(BUILD_HELP_NOTE.format(config=ppack_config_path(env)))
    return code


def _completion() -> NoReturn:
    """Shell completion for ppack's own commands: eval "$(_PPACK_COMPLETE=bash_source ppack)"."""
    import click

    from ppack.pulllog_cli import pull_log

    group = click.Group("ppack", commands={"pull-log": pull_log})
    group.main(prog_name="ppack", complete_var="_PPACK_COMPLETE")
    raise SystemExit(Exit.OK)


if __name__ == "__main__":
    main()
