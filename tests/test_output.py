"""
What users see (issue #5): progress on a terminal and in a log, verbosity,
--dry-run, and the pull-log command, against the real daemon and registry.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from datetime import timedelta

import pytest

from conftest import Workspace
from support.engine import Registry, lifecycle_labels, publish_builder, publish_image, run_image_labels


BUILDER = "shown/builder:1"
RUN = "shown/run:1"
LIFECYCLE = "buildpacksio/lifecycle:0.21.0"


@pytest.fixture(scope="module", autouse=True)
def images(registry: Registry) -> None:
    publish_builder(registry, BUILDER, RUN)
    publish_image(None, registry, RUN, labels=run_image_labels(), size=3_000_000)
    publish_image(None, registry, LIFECYCLE, labels=lifecycle_labels(), size=1_000_000)


def run_in_terminal(ws: Workspace, *args: str) -> tuple[int, str]:
    """Run ppack with stderr on a pseudo-terminal, as in an interactive shell."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "ppack", *args],
        env={**ws.env, "TERM": "xterm"},
        cwd=ws.app,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return process.wait(timeout=60), b"".join(chunks).decode(errors="replace")


def test_terminal_shows_live_lines_that_collapse(engine_workspace: Workspace) -> None:
    code, screen = run_in_terminal(engine_workspace, "build", "app", "-B", BUILDER)
    assert code == 0, screen
    assert "\x1b[1A\x1b[2K" in screen  # lines are rewritten in place
    assert "Pulling shown/run:1 (not in the daemon)" in screen
    # The last frame holds one summary line per image.
    final = screen.rsplit("\x1b[2K", 3)
    assert any("Pulled shown/run:1 (3.0 MB in " in part for part in final), final


def test_a_log_gets_one_line_per_image_start_and_finish(engine_workspace: Workspace) -> None:
    run = engine_workspace.run("build", "app", "-B", BUILDER)
    assert run.returncode == 0, run.stderr
    assert "\r" not in run.stderr
    assert "\x1b" not in run.stderr
    lines = run.stderr.splitlines()
    for image in (BUILDER, RUN, LIFECYCLE):
        assert sum(line.startswith(f"Pulling {image} (") for line in lines) == 1, lines
        assert sum(line.startswith(f"Pulled {image} (") for line in lines) == 1, lines
    assert len(lines) == 6


def test_quiet_shows_nothing_and_verbose_says_why(engine_workspace: Workspace) -> None:
    ws = engine_workspace
    quiet = ws.run("build", "app", "-B", BUILDER, "-q")
    assert quiet.returncode == 0
    assert quiet.stderr == ""
    verbose = ws.run("build", "-v", "app", "-B", BUILDER)
    lines = verbose.stderr.splitlines()
    assert "shown/builder:1 (builder, from --builder): keep, pulled 0 s ago, fresh (daily)" in lines
    assert any(line.startswith("shown/run:1 (run image, ") for line in lines)
    assert lines[-1] == "ppack: 3 images fresh (daily); nothing to pull"


def test_a_partial_refresh_names_every_image(engine_workspace: Workspace) -> None:
    ws = engine_workspace
    assert ws.run("build", "app", "-B", BUILDER).returncode == 0
    import docker

    docker.APIClient(base_url=ws.env["DOCKER_HOST"], version="auto").remove_image(RUN, force=True)
    run = ws.run("build", "app", "-B", BUILDER)
    lines = run.stderr.splitlines()
    assert lines[0] == "Pulling shown/run:1 (not in the daemon)"
    assert lines[1].startswith("Pulled shown/run:1 (")
    assert sorted(lines[2:]) == [
        "Keeping buildpacksio/lifecycle:0.21.0 (pulled 0 s ago, fresh (daily))",
        "Keeping shown/builder:1 (pulled 0 s ago, fresh (daily))",
    ]


def test_color_flags(engine_workspace: Workspace) -> None:
    ws = engine_workspace
    ws.log_path.write_text("{broken")
    plain = ws.run("build", "app", "-B", BUILDER, "--pull-policy", "never")
    forced = ws.run("build", "app", "-B", BUILDER, "--force-color", "--pull-policy", "never")
    assert "Warning:" in plain.stderr
    assert "\x1b[" not in plain.stderr
    assert "\x1b[33mWarning:\x1b[0m" in forced.stderr or "\x1b[31mERROR:\x1b[0m" in forced.stderr


def test_dry_run_prints_the_plan_and_pulls_nothing(engine_workspace: Workspace, registry: Registry) -> None:
    ws = engine_workspace
    assert ws.run("build", "app", "-B", BUILDER).returncode == 0
    ws.age_log(timedelta(days=2))
    mark = registry.mark()
    run = ws.run("build", "app", "-B", BUILDER, "--dry-run", "--pull-policy", "daily", "-e", "A=1")
    assert run.returncode == 0, run.stderr
    assert run.pack_calls == []
    assert registry.manifest_requests(mark) == []
    lines = run.stdout.splitlines()
    assert lines[0] == "Pull policy: daily (from --pull-policy)"
    assert lines[1].startswith("  pull shown/builder:1  [builder: from --builder; last pulled by ppack: 20")
    assert "pulled 2 days ago (daily)" in lines[1]
    assert any("lifecycle: builder is not trusted" in line for line in lines)
    assert lines[-1] == f"Would run: pack build --pull-policy never app -B {BUILDER} -e A=1"


def test_dry_run_on_an_empty_daemon(engine_workspace: Workspace) -> None:
    run = engine_workspace.run("build", "app", "-B", BUILDER, "--dry-run")
    assert run.returncode == 0, run.stderr
    assert (
        "  pull shown/builder:1  [builder: from --builder; last pulled by ppack: never; not in the daemon]"
        in run.stdout
    )
    assert "the other images are known once the builder has been pulled" in run.stdout


def test_pull_log_table_json_forget_clear_prune(engine_workspace: Workspace) -> None:
    ws = engine_workspace
    assert ws.run("build", "app", "-B", BUILDER).returncode == 0
    table = ws.run("pull-log")
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["IMAGE", "LAST", "PULLED", "AGE", "DUE", "PRESENT"]
    assert len(rows) == 3
    assert all(row.split()[-1] == "yes" for row in rows)

    ws.age_log(timedelta(days=2))
    data = json.loads(ws.run("pull-log", "--json").stdout)
    assert {row["image"] for row in data} == {
        "docker.io/shown/builder:1",
        "docker.io/shown/run:1",
        "docker.io/buildpacksio/lifecycle:0.21.0",
    }
    assert all(row["due"] and row["present"] and row["age_seconds"] >= 2 * 86400 for row in data)

    forgot = ws.run("pull-log", "forget", RUN)
    assert forgot.returncode == 0
    assert forgot.stdout.strip() == "Forgot docker.io/shown/run:1"
    missing = ws.run("pull-log", "forget", "never/pulled:1")
    assert missing.returncode == 1
    assert "No record of docker.io/never/pulled:1" in missing.stderr
    assert len(json.loads(ws.run("pull-log", "--json").stdout)) == 2

    ws.age_log(timedelta(days=40))
    assert ws.run("pull-log", "prune").stdout.strip() == "Pruned 2 records"
    assert json.loads(ws.run("pull-log", "--json").stdout) == []
    assert ws.run("build", "app", "-B", BUILDER).returncode == 0
    assert ws.run("pull-log", "clear").stdout.strip() == "Cleared 3 records"
    assert ws.run("pull-log").stdout.strip() == "No pulls recorded for this daemon yet."


def test_pull_log_other_daemons(engine_workspace: Workspace) -> None:
    from datetime import datetime, timezone

    from ppack import pulllog

    ws = engine_workspace
    now = datetime.now(timezone.utc)
    record = pulllog.Record(pulled_at=now, name="elsewhere/image:1")
    pulllog.update(ws.log_path, {("OTHER:DAEMON", "docker.io/elsewhere/image:1"): record}, now)
    assert json.loads(ws.run("pull-log", "--json").stdout) == []
    everything = json.loads(ws.run("pull-log", "--json", "--all-daemons").stdout)
    assert [(row["daemon"], row["present"]) for row in everything] == [("OTHER:DAEMON", None)]


def test_pull_log_usage_errors(engine_workspace: Workspace) -> None:
    bad = engine_workspace.run("pull-log", "forget", "Not A Reference")
    assert bad.returncode == 2
    assert bad.stderr.startswith("ERROR: Invalid value for IMAGE")
    unknown = engine_workspace.run("pull-log", "--frobnicate")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("ERROR: No such option")
    assert "--frobnicate" in unknown.stderr


def test_pull_log_lists_registry_buildpacks_without_asking_the_daemon(engine_workspace: Workspace) -> None:
    """`pack buildpack pull` records locators, not image names: the daemon cannot say if it has one."""
    from datetime import datetime, timezone

    from ppack import pulllog

    ws = engine_workspace
    assert ws.run("build", "app", "-B", BUILDER).returncode == 0
    daemon_id = next(iter(pulllog.read(ws.log_path).daemons))
    now = datetime.now(timezone.utc)
    for locator in ("urn:cnb:registry:example/registry-bp@1.0.0", "example/other-bp"):
        pulllog.update(ws.log_path, {(daemon_id, locator): pulllog.Record(now, locator)}, now)
    listed = ws.run("pull-log", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["image"]: row for row in json.loads(listed.stdout)}
    assert rows["urn:cnb:registry:example/registry-bp@1.0.0"]["present"] is None
    assert rows["example/other-bp"]["present"] is None
    assert rows["docker.io/shown/run:1"]["present"] is True
    table = ws.run("pull-log")
    assert table.returncode == 0, table.stderr
    assert any(
        line.startswith("urn:cnb:registry:example/registry-bp@1.0.0 ") for line in table.stdout.splitlines()
    )
    for locator in ("urn:cnb:registry:example/registry-bp@1.0.0", "example/other-bp"):
        forgot = ws.run("pull-log", "forget", locator)
        assert forgot.returncode == 0, forgot.stderr
        assert forgot.stdout.strip() == f"Forgot {locator}"
    again = ws.run("pull-log", "forget", "example/registry-bp@1.0.0")
    assert again.returncode == 1
    assert again.stderr.strip() == "No record of example/registry-bp@1.0.0"


def test_a_reader_that_leaves_early_gets_no_traceback(engine_workspace: Workspace) -> None:
    """`ppack build --dry-run | head -1`: ppack stops as pack would, killed-by-SIGPIPE style."""
    ws = engine_workspace
    assert ws.run("build", "app", "-B", BUILDER).returncode == 0
    reader, writer = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-m", "ppack", "build", "app", "-B", BUILDER, "--dry-run"],
        env=ws.env,
        cwd=ws.app,
        stdout=writer,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(writer)
    os.close(reader)  # the reader is gone before ppack writes its first line
    _, err = process.communicate(timeout=60)
    assert process.returncode == 141, err
    assert "Traceback" not in err
    assert "Exception ignored" not in err


def test_dry_run_needs_no_pack(engine_workspace: Workspace) -> None:
    run = engine_workspace.run(
        "build", "app", "-B", BUILDER, "--dry-run", env={"PPACK_PACK": "/no/such/pack"}
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == f"Would run: pack build --pull-policy never app -B {BUILDER}"
