"""
The command line without a daemon: usage errors, hand-over, pack discovery (issue #2).

These run ppack in-process through ``main`` with ``os.execve`` replaced, as
pipx's tests do, so the test process is never replaced by pack.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from ppack.__main__ import main


class Exec(Exception):
    """Raised instead of replacing the process; carries what would have run."""

    def __init__(self, path: str, argv: list[str], env: dict[str, str]) -> None:
        super().__init__(path)
        self.path, self.argv, self.env = path, argv, env


@pytest.fixture
def no_exec(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        raise Exec(path, list(argv), dict(env))

    monkeypatch.setattr(os, "execve", fake_execve)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    pack = tmp_path / "bin" / "pack"
    pack.parent.mkdir()
    pack.write_text("#!/bin/sh\necho '0.40.5+git-7640af9.build-6868'\n")
    pack.chmod(pack.stat().st_mode | stat.S_IEXEC)
    return {
        "PATH": str(pack.parent),
        "HOME": str(tmp_path),
        "PACK_HOME": str(tmp_path / "pack-home"),
        "PPACK_CONFIG": str(tmp_path / "ppack.toml"),
        # A daemon that is not there: usage errors must come before any daemon call.
        "DOCKER_HOST": f"unix://{tmp_path}/no-daemon.sock",
    }


def run(argv: list[str], env: dict[str, str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(argv, env)
    code = done.value.code
    return code if isinstance(code, int) else 1


BAD_POLICIES = [
    "0d", "-1d", "1x", "12h1d", "interval=", "Daily", "DAILY", "interval=0m", "interval=366d",
    "interval=53w", "interval=1d1d", "interval=1 d", "interval=99999999999999999999d", "sometimes",
    "daily\x1b[31m", "interval=12h ",
]  # fmt: skip


@pytest.mark.parametrize("policy", BAD_POLICIES)
def test_bad_policy_is_one_line_exit_2(policy: str, env: dict[str, str], capsys: Any, no_exec: None) -> None:
    assert run(["build", "app", "-B", "example/builder:1", "--pull-policy", policy], env) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("ERROR: invalid pull policy '")
    assert "(from --pull-policy)" in err
    assert "Traceback" not in err
    assert not (Path(env["PACK_HOME"]) / "ppack-pull-log.json").exists()


@pytest.mark.parametrize(
    ("source", "where"),
    [
        ("env", "PPACK_PULL_POLICY"),
        ("ppack", "ppack.toml"),
        ("pack", "config.toml"),
    ],
)
def test_bad_policy_from_each_source_names_it(
    source: str, where: str, env: dict[str, str], capsys: Any, no_exec: None
) -> None:
    if source == "env":
        env["PPACK_PULL_POLICY"] = "fortnightly"
    elif source == "ppack":
        Path(env["PPACK_CONFIG"]).write_text('pull-policy = "fortnightly"\n')
    else:
        Path(env["PACK_HOME"]).mkdir()
        (Path(env["PACK_HOME"]) / "config.toml").write_text('pull-policy = "fortnightly"\n')
    assert run(["build", "app", "-B", "example/builder:1"], env) == 2
    err = capsys.readouterr().err
    assert "'fortnightly'" in err
    assert where in err


def test_other_commands_exec_pack_with_argv_untouched(env: dict[str, str], no_exec: None) -> None:
    argv = ["builder", "inspect", "heroku/builder:24", "--pull-policy", "daily", "--", "-x"]
    with pytest.raises(Exec) as handed:
        main(argv, env)
    assert handed.value.argv[1:] == argv
    assert handed.value.path == str(Path(env["PATH"]) / "pack")
    assert handed.value.env["PPACK_ACTIVE"] == "1"


def test_build_without_a_builder_lets_pack_suggest_one(env: dict[str, str], no_exec: None) -> None:
    with pytest.raises(Exec) as handed:
        main(["build", "my-app", "--pull-policy", "daily"], env)
    assert handed.value.argv[1:] == ["build", "--pull-policy", "never", "my-app"]


def test_unknown_flag_goes_to_pack_untouched(env: dict[str, str], no_exec: None) -> None:
    # ppack cannot know whether --frobnicate takes a value: pack reports it, ppack never guesses.
    argv = ["build", "app", "--frobnicate", "--pull-policy", "Daily"]
    with pytest.raises(Exec) as handed:
        main(argv, env)
    assert handed.value.argv[1:] == argv


def test_pack_missing_is_exit_127_with_a_hint(env: dict[str, str], capsys: Any, no_exec: None) -> None:
    env["PATH"] = str(Path(env["HOME"]) / "empty")
    assert run(["build", "app", "-B", "example/builder:1"], env) == 127
    err = capsys.readouterr().err
    assert err.startswith("ERROR: pack not found on PATH: install pack")
    assert "PPACK_PACK" in err
    assert err.count("\n") == 1


def test_ppack_installed_as_pack_is_skipped_on_path(
    tmp_path: Path, env: dict[str, str], no_exec: None
) -> None:
    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    shim = shim_dir / "pack"
    shim.write_text(f"#!{sys.executable}\nfrom ppack.__main__ import main\nmain()\n")
    shim.chmod(0o755)
    env["PATH"] = os.pathsep.join([str(shim_dir), env["PATH"]])
    with pytest.raises(Exec) as handed:
        main(["builder", "inspect", "x"], env)
    assert handed.value.path == str(Path(env["HOME"]) / "bin" / "pack")


def test_ppack_pack_pointing_at_ppack_is_refused(tmp_path: Path, env: dict[str, str], capsys: Any) -> None:
    shim = tmp_path / "ppack-again"
    shim.write_text(f"#!{sys.executable}\nfrom ppack.__main__ import main\nmain()\n")
    shim.chmod(0o755)
    env["PPACK_PACK"] = str(shim)
    assert run(["builder", "inspect", "x"], env) == 1
    assert "is ppack itself" in capsys.readouterr().err


def test_a_loop_through_a_wrapper_is_stopped(env: dict[str, str], capsys: Any) -> None:
    env["PPACK_ACTIVE"] = "1"
    assert run(["build", "app"], env) == 1
    assert "started by the pack it handed over to" in capsys.readouterr().err


def test_daemon_down_is_one_line_exit_1(env: dict[str, str], capsys: Any, no_exec: None) -> None:
    assert run(["build", "app", "-B", "example/builder:1", "--pull-policy", "daily"], env) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ERROR: cannot connect to the Docker daemon at {env['DOCKER_HOST']} (DOCKER_HOST)")
    assert err.count("\n") == 1


def test_invalid_builder_reference_is_one_line(env: dict[str, str], capsys: Any, no_exec: None) -> None:
    assert run(["build", "app", "-B", "Example/Builder with space"], env) == 1
    err = capsys.readouterr().err
    assert err.startswith("ERROR: invalid builder (from --builder): invalid image reference")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        ("pack", "pull-policy = [", "ERROR: reading pack config: failed to read config file at path"),
        ("pack", "default-builder-image = 3\n", "ERROR: reading pack config"),
        ("ppack", "pull-timeout = -1\n", "ERROR: pull-timeout in"),
        ("ppack", "pull-timeout = nan\n", "ERROR: pull-timeout in"),
        ("ppack", "pull-timeout = inf\n", "ERROR: pull-timeout in"),
        ("ppack", "pull-timeout = 1e12\n", "ERROR: pull-timeout in"),
        (
            "pack",
            '[registry-mirrors]\n"index.docker.io" = "http://mirror.test:5000"\n',
            "ERROR: reading pack config",
        ),
        ("pack", '[registry-mirrors]\n"*" = 3\n', "ERROR: reading pack config"),
        ("pack", '[[run-images]]\nimage = "a/run"\nmirrors = "b/run"\n', "ERROR: reading pack config"),
        ("project", "[_]\nschema-version = '9.9'\n", "ERROR: parsing project descriptor"),
        ("project", "[build\n", "ERROR: parsing project descriptor"),
    ],
)
def test_malformed_files_are_one_line(
    file: str,
    text: str,
    message: str,
    env: dict[str, str],
    capsys: Any,
    no_exec: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if file == "pack":
        Path(env["PACK_HOME"]).mkdir()
        (Path(env["PACK_HOME"]) / "config.toml").write_text(text)
    elif file == "ppack":
        Path(env["PPACK_CONFIG"]).write_text(text)
    else:
        (tmp_path / "project.toml").write_text(text)
        monkeypatch.chdir(tmp_path)
    assert run(["build", "app", "-B", "example/builder:1"], env) in (1, 2)
    err = capsys.readouterr().err
    assert err.startswith(message), err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_help_note_then_pack_help(env: dict[str, str], capsys: Any, no_exec: None) -> None:
    with pytest.raises(Exec) as handed:
        main(["--help"], env)
    assert handed.value.argv[1:] == ["--help"]
    out = capsys.readouterr().out
    assert "Every pack command works" in out
    assert "PPACK_PULL_POLICY" in out


def test_dry_run_flag_never_reaches_pack_help(env: dict[str, str], capfd: Any) -> None:
    assert run(["build", "--help"], env) == 0
    out = capfd.readouterr().out
    assert "ppack additions:" in out
    assert "--dry-run" in out


@pytest.mark.usefixtures("no_exec")
@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["build", "--dry-run"], "accepts 1 arg(s), received 0"),
        (["build", "a", "b", "--dry-run", "-B", "x/y:1"], "accepts 1 arg(s), received 2"),
        (["build", "app", "--dry-run", "--no-such-flag"], "unknown flag: --no-such-flag"),
    ],
)
def test_dry_run_on_a_command_line_pack_would_reject(
    argv: list[str], problem: str, env: dict[str, str], capfd: Any
) -> None:
    assert run(argv, env) == 2
    err = capfd.readouterr().err
    assert err == f"ERROR: {problem} (ppack build --dry-run pulled and ran nothing)\n"


@pytest.mark.usefixtures("no_exec")
def test_a_dry_run_after_double_dash_is_pack_s_business(env: dict[str, str]) -> None:
    with pytest.raises(Exec) as ran:
        main(["build", "--", "a", "--dry-run"], env)
    assert ran.value.argv[1:] == ["build", "--", "a", "--dry-run"]


@pytest.mark.usefixtures("no_exec")
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PPACK_PULL_TIMEOUT", "nan"),
        ("PPACK_PULL_TIMEOUT", "inf"),
        ("PPACK_PULL_TIMEOUT", "1e12"),
        ("PPACK_PULL_TIMEOUT", "0.5"),
        ("PPACK_PULL_TIMEOUT", "  5"),
        ("PPACK_MAX_PARALLEL", "\u0663"),  # ARABIC-INDIC DIGIT THREE: a digit, but not one ppack reads
        ("PPACK_MAX_PARALLEL", " 4"),
        ("PPACK_MAX_PARALLEL", "33"),
    ],
)
def test_bad_limits_are_one_line_exit_2(name: str, value: str, env: dict[str, str], capsys: Any) -> None:
    env[name] = value
    assert run(["build", "app", "-B", "example/builder:1"], env) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ERROR: {name}={value!r} must be "), err
    assert err.count("\n") == 1


def test_build_help_never_shows_pack_the_dry_run_flag(env: dict[str, str], tmp_path: Path) -> None:
    record = tmp_path / "argv"
    pack = Path(env["PATH"]) / "pack"
    pack.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    assert run(["build", "--help", "--dry-run"], env) == 0
    assert record.read_text().splitlines() == ["build", "--help"]


def test_pull_log_of_every_daemon_needs_no_daemon(env: dict[str, str], capsys: Any) -> None:
    from datetime import datetime, timezone

    from ppack import pulllog

    now = datetime.now(timezone.utc)
    log = Path(env["PACK_HOME"]) / pulllog.FILE_NAME
    pulllog.update(log, {("SOME:DAEMON", "docker.io/a/b:1"): pulllog.Record(now, "a/b:1")}, now)
    assert run(["pull-log", "--all-daemons", "--json"], env) == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)
    assert [(row["image"], row["daemon"], row["present"]) for row in rows] == [
        ("docker.io/a/b:1", "SOME:DAEMON", None)
    ]
    assert err.startswith("Warning: cannot connect to the Docker daemon")
    assert run(["pull-log"], env) == 1  # this daemon's view does need it
