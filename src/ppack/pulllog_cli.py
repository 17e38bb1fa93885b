"""``ppack pull-log``: look at and tidy the pull log (a name pack does not use)."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import click

from ppack import pulllog, reference
from ppack.daemon import DaemonUnavailable, Engine, resolve_address
from ppack.messages import PpackError
from ppack.planner import is_registry_locator
from ppack.policy import decide, format_age
from ppack.settings import choose_policy, load_pack_config, load_ppack_config, pack_home


def _now() -> datetime:
    from ppack.refresher import now_utc

    return now_utc()


class _State:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.home = pack_home(env)
        self.path = pulllog.log_path(self.home)

    def engine(self) -> Engine:
        return Engine(resolve_address(self.env))

    def daemon_id(self) -> str:
        engine = self.engine()
        try:
            return engine.daemon_id()
        finally:
            engine.close()


pass_state = click.make_pass_decorator(_State)


@click.group(
    name="pull-log",
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--json", "as_json", is_flag=True, help="Print the records as JSON, for scripts.")
@click.option("--all-daemons", is_flag=True, help="Show records of every daemon, not only the current one.")
@click.pass_context
def pull_log(ctx: click.Context, as_json: bool, all_daemons: bool) -> None:
    """Show when ppack last pulled each image, and whether it is due."""
    if ctx.invoked_subcommand is not None:
        return
    state: _State = ctx.obj
    rows = _rows(state, all_daemons, _now())
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    _print_table(rows)


def _rows(state: _State, all_daemons: bool, now: datetime) -> list[dict[str, Any]]:
    loaded = pulllog.load(state.path)
    if loaded.problem:
        click.echo(f"Warning: the pull log {state.path} is unreadable ({loaded.problem})", err=True)
    policy = choose_policy(None, state.env, load_ppack_config(state.env), load_pack_config(state.env)).policy
    engine = state.engine()
    try:
        current = _current_daemon(engine, all_daemons)
        rows = []
        for daemon_id, daemon in loaded.log.daemons.items():
            if not all_daemons and daemon_id != current:
                continue
            for key, record in daemon.images.items():
                present = _present(engine, key, record) if daemon_id == current else None
                due = decide(policy, present=present is not False, last_pulled=record.pulled_at, now=now)
                rows.append(
                    {
                        "image": key,
                        "name": record.name,
                        "daemon": daemon_id,
                        "pulled_at": pulllog.utc_iso(record.pulled_at),
                        "age_seconds": int((now - record.pulled_at).total_seconds()),
                        "due": due.pull,
                        "policy": policy.text,
                        "present": present,
                        "image_id": record.image_id,
                        "repo_digest": record.repo_digest,
                        "platform": record.platform,
                    }
                )
    finally:
        engine.close()
    rows.sort(key=_sort_key(current))
    return rows


def _current_daemon(engine: Engine, all_daemons: bool) -> str:
    """This daemon's ID; with --all-daemons the log alone is enough, so a down daemon is no error."""
    try:
        return engine.daemon_id()
    except DaemonUnavailable as error:
        if not all_daemons:
            raise
        click.echo(f"Warning: {error.message}; PRESENT is not known", err=True)
        return ""


def _present(engine: Engine, key: str, record: pulllog.Record) -> bool | None:
    """Whether the daemon holds it; None for a registry buildpack, which it cannot tell."""
    # `pack buildpack pull` records keep pack's locator (urn:cnb:registry:…, ns/name@1.0.0);
    # an image's key is canonical, so it always has a tag or digest and never matches one.
    return None if is_registry_locator(key) else engine.inspect_image(record.name) is not None


def _sort_key(current: str) -> Any:
    """This daemon first, then due images, oldest first."""
    return lambda row: (row["daemon"] != current, not row["due"], -int(row["age_seconds"]), row["image"])


def _print_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        click.echo("No pulls recorded for this daemon yet.")
        return
    from datetime import timedelta

    header = ("IMAGE", "LAST PULLED", "AGE", "DUE", "PRESENT")
    table = [
        (
            reference.familiar(row["name"]),
            row["pulled_at"],
            format_age(timedelta(seconds=row["age_seconds"])),
            f"yes ({row['policy']})" if row["due"] else f"no ({row['policy']})",
            {True: "yes", False: "no", None: "-"}[row["present"]],
        )
        for row in rows
    ]
    widths = [max(len(str(line[i])) for line in [header, *table]) for i in range(len(header))]
    for line in [header, *table]:
        click.echo(
            "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


@pull_log.command()
@click.argument("images", nargs=-1, required=True)
@pass_state
def forget(state: _State, images: tuple[str, ...]) -> None:
    """Forget IMAGE…, so the next build pulls them (a registry buildpack: as pack was given it)."""
    wanted = [_keys_for(image) for image in images]
    daemon_id = state.daemon_id()

    def drop(log: pulllog.PullLog) -> list[str]:
        return [next((key for key in keys if log.forget(daemon_id, key)), "") for keys in wanted]

    forgotten = _rewrite(state, drop)
    for keys, key in zip(wanted, forgotten, strict=True):
        click.echo(f"Forgot {key}" if key else f"No record of {keys[0]}", err=not key)
    if not all(forgotten):
        sys.exit(1)


def _keys_for(image: str) -> tuple[str, ...]:
    """The records IMAGE may name: an image by its canonical name, or a registry buildpack."""
    try:
        canonical = reference.canonical(image)
    except reference.ReferenceError as error:
        if is_registry_locator(image):
            return (image,)
        raise click.BadParameter(str(error), param_hint="IMAGE") from None
    # ``ns/name`` is both an image (``docker.io/ns/name:latest``) and a registry buildpack.
    return (canonical, image) if is_registry_locator(image) else (canonical,)


@pull_log.command()
@pass_state
def clear(state: _State) -> None:
    """Forget every record of every daemon."""

    def wipe(log: pulllog.PullLog) -> int:
        count = sum(len(d.images) for d in log.daemons.values())
        log.daemons.clear()
        return count

    click.echo(f"Cleared {_rewrite(state, wipe)} records")


@pull_log.command()
@pass_state
def prune(state: _State) -> None:
    """Drop records older than max(30 days, the longest interval used)."""
    now = _now()
    click.echo(f"Pruned {_rewrite(state, lambda log: log.prune(now))} records")


def _rewrite(state: _State, transform: Any) -> Any:
    try:
        return pulllog.rewrite(state.path, transform, _now())
    except pulllog.SaveFailed as error:
        raise click.ClickException(f"could not save the pull log {state.path}: {error}") from None


def run_pull_log(args: list[str], env: Mapping[str, str]) -> int:
    """Run the click group with pack-style errors; returns the exit code."""
    try:
        pull_log.main(args=args[1:], prog_name="ppack pull-log", obj=_State(env), standalone_mode=False)
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.ClickException as error:
        click.echo(f"ERROR: {error.format_message()}", err=True)
        return error.exit_code
    except click.Abort:
        return 130
    except PpackError:
        raise
    return 0
