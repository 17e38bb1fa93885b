"""
``ppack build``: argv → plan → pulls → the argv pack will get.

The builder comes first because its labels name the other images. When the
daemon already holds a builder, its labels are read before refreshing it, so
every due image pulls at once; if the refreshed builder names different
images, those follow.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ppack import pulllog, reference
from ppack.commandline import Scan, rewrite_for_pack
from ppack.daemon import Engine, resolve_address
from ppack.messages import Reporter
from ppack.planner import (
    BuildInputs,
    Need,
    Plan,
    builder_info,
    builder_need,
    plan_after_builder,
    read_inputs,
    validate,
)
from ppack.policy import Kind
from ppack.progress import Progress, make_progress
from ppack.puller import Puller
from ppack.refresher import Refresher
from ppack.settings import (
    ChosenPolicy,
    PackConfig,
    choose_policy,
    load_pack_config,
    load_ppack_config,
    max_parallel,
    pack_home,
    pull_timeout,
)


@dataclass(frozen=True)
class _Limits:
    timeout: float
    parallel: int


@dataclass(frozen=True)
class Handover:
    """What to exec: pack's argv (without the program name)."""

    args: list[str]


def prepare_build(
    scan: Scan,
    env: Mapping[str, str],
    *,
    cwd: Path,
    clock: Callable[[], datetime],
    reporter: Reporter,
    find_pack: Callable[[], str],
) -> Handover | None:
    """Everything before exec. Returns None for --dry-run (the plan was printed)."""
    ppack_config = load_ppack_config(env)
    pack_config = load_pack_config(env)
    chosen = choose_policy(scan.last("pull-policy"), env, ppack_config, pack_config)
    limits = _Limits(pull_timeout(env, ppack_config), max_parallel(env))
    dry_run = scan.enabled("dry-run")
    if not dry_run:
        find_pack()  # a missing pack fails now, before any pull
    inputs = read_inputs(scan, pack_config, cwd)
    if not inputs.builder:
        # pack prints its own builder suggestions; nothing to pull.
        return Handover(rewrite_for_pack(scan))
    validate(inputs, pack_config)
    engine = Engine(resolve_address(env))
    progress = make_progress(reporter)
    try:
        refresher = _refresher(engine, env, chosen, clock, reporter, find_pack, limits, progress)
        if dry_run:
            _print_plan(refresher, inputs, pack_config, chosen, scan, reporter)
            return None
        plan = _refresh_all(refresher, inputs, pack_config)
    finally:
        progress.close()
        engine.close()
    pack_policy, warnings = _pack_policy(plan, chosen)
    for warning in warnings:
        reporter.warn(warning)
    _summarize(refresher, chosen, reporter)
    return Handover(rewrite_for_pack(scan, pack_policy))


def _pack_policy(plan: Plan, chosen: ChosenPolicy) -> tuple[str, list[str]]:
    """What pack runs with, and why if not ``never`` (image extensions make pack insist on ``always``)."""
    # Asked for never, the user gets never: pack then refuses the extensions in its own words.
    if chosen.policy.kind is Kind.NEVER:
        return "never", []
    return plan.pack_policy, plan.warnings


def _refresher(
    engine: Engine,
    env: Mapping[str, str],
    chosen: ChosenPolicy,
    clock: Callable[[], datetime],
    reporter: Reporter,
    find_pack: Callable[[], str],
    limits: _Limits,
    progress: Progress,
) -> Refresher:
    home = pack_home(env)
    daemon_id = engine.daemon_id()
    loaded = pulllog.load(pulllog.log_path(home))
    if loaded.problem:
        reporter.warn(
            f"ignoring the unreadable pull log {pulllog.log_path(home)} ({loaded.problem}); "
            "it is kept aside as .corrupt-<time> when ppack next saves it"
        )
    return Refresher(
        engine=engine,
        daemon_id=daemon_id,
        home=home,
        log=loaded.log,
        policy=chosen.policy,
        clock=clock,
        reporter=reporter,
        make_puller=lambda: Puller(engine.address, progress, stall_timeout=limits.timeout, pack=find_pack),
        max_parallel=limits.parallel,
    )


def _refresh_all(refresher: Refresher, inputs: BuildInputs, config: PackConfig) -> Plan:
    builder = builder_need(inputs, config)
    before = refresher.inspect(builder.name)
    if before is None:
        refresher.ensure([builder])
        plan = _plan(refresher, inputs, config, builder)
        refresher.ensure(plan.needs)
        return plan
    # The builder is in the daemon: plan from its current labels and pull everything due at once.
    plan = _plan(refresher, inputs, config, builder)
    refresher.ensure([builder, *plan.needs])
    after = refresher.inspect(builder.name)
    if after is not None and after.get("Id") != before.get("Id"):
        plan = _plan(refresher, inputs, config, builder)
        refresher.ensure(plan.needs)
    return plan


def _plan(refresher: Refresher, inputs: BuildInputs, config: PackConfig, builder: Need) -> Plan:
    inspect = refresher.inspect(builder.name) or {}
    info = builder_info(builder.name, inspect)
    return plan_after_builder(inputs, config, info, refresher.present)


def _summarize(refresher: Refresher, chosen: ChosenPolicy, reporter: Reporter) -> None:
    """A CI log shows at a glance why a build was fast or slow: a line per image, or one in all."""
    if refresher.pulled or refresher.stale:
        for name, reason in refresher.kept.items():
            reporter.info(f"Keeping {name} ({reason})")
        if not refresher.pulled:
            count, policy = len(refresher.stale), chosen.policy.text
            reporter.info(f"ppack: pulled nothing; {count} {_images(count)} due but not refreshed ({policy})")
        return
    count = len(refresher.fresh)
    state = "fresh" if chosen.policy.kind is Kind.INTERVAL else "present"
    reporter.info(f"ppack: {count} {_images(count)} {state} ({chosen.policy.text}); nothing to pull")


def _images(count: int) -> str:
    return "image" if count == 1 else "images"


def _print_plan(
    refresher: Refresher,
    inputs: BuildInputs,
    config: PackConfig,
    chosen: ChosenPolicy,
    scan: Scan,
    reporter: Reporter,
) -> None:
    """--dry-run: each image, why pack needs it, its record, the decision; then pack's argv."""
    out = sys.stdout
    builder = builder_need(inputs, config)
    out.write(f"Pull policy: {chosen.policy.text} (from {chosen.source})\n")
    needs = [builder]
    pack_policy = "never"
    if refresher.present(builder.name):
        plan = _plan(refresher, inputs, config, builder)
        needs += plan.needs
        pack_policy, warnings = _pack_policy(plan, chosen)
        for warning in warnings:
            out.write(f"Warning: {warning}\n")
    for need in needs:
        out.write(_plan_line(refresher, need))
    if not refresher.present(builder.name):
        out.write("  (the other images are known once the builder has been pulled)\n")
    args = " ".join(shlex.quote(a) for a in rewrite_for_pack(scan, pack_policy))
    out.write(f"Would run: pack {args}\n")
    out.flush()


def _plan_line(refresher: Refresher, need: Need) -> str:
    decision = refresher.evaluate(need)
    record = refresher.log.record(refresher.daemon_id, need.key)
    when = pulllog.utc_iso(record.pulled_at) if record else "never"
    verdict = "pull" if decision.pull else "keep"
    return (
        f"  {verdict:<4} {reference.familiar(need.name)}  [{need.role}: {need.why}; "
        f"last pulled by ppack: {when}; {decision.reason}]\n"
    )


def working_directory() -> Path:
    return Path.cwd()
