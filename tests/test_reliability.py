"""
Faults, with the real dockerd and registry (issue #4): concurrent builds, a
registry that is down or answering 429/503, a corrupt log, a read-only home.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import Workspace
from support.engine import Registry, lifecycle_labels, publish_builder, publish_image, run_image_labels


BUILDER = "reliable/builder:1"
RUN = "reliable/run:1"
LIFECYCLE = "buildpacksio/lifecycle:0.21.0"
REPOS = ("reliable/builder", "reliable/run", "buildpacksio/lifecycle")


@pytest.fixture(scope="module", autouse=True)
def images(registry: Registry) -> None:
    publish_builder(registry, BUILDER, RUN)
    publish_image(None, registry, RUN, labels=run_image_labels(), size=200_000)
    publish_image(None, registry, LIFECYCLE, labels=lifecycle_labels())


def pulls(registry: Registry, since: int) -> dict[str, int]:
    return {repo: registry.pulls_of(repo, since) for repo in REPOS}


def test_sixteen_concurrent_builds_pull_each_stale_image_once(
    engine_workspace: Workspace, registry: Registry
) -> None:
    ws = engine_workspace
    assert ws.run("build", "app", "-B", BUILDER).returncode == 0
    ws.age_log(timedelta(days=2))
    mark = registry.mark()
    argv = [sys.executable, "-m", "ppack", "build", "app", "-B", BUILDER, "--pull-policy", "daily"]
    processes = [
        subprocess.Popen(
            argv, env=ws.env, cwd=ws.app, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(16)
    ]
    results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in processes]
    assert [code for code, _ in results] == [0] * 16, [err for _, err in results]
    assert pulls(registry, mark) == dict.fromkeys(REPOS, 1)
    calls = [json.loads(line) for line in ws.record_path.read_text().splitlines()]
    assert len(calls) == 1 + 16  # every build reached pack
    assert set(ws.records()) == {
        "docker.io/reliable/builder:1",
        "docker.io/reliable/run:1",
        "docker.io/buildpacksio/lifecycle:0.21.0",
    }
    reused = sum("pulled just now by another ppack" in err for _, err in results)
    assert reused >= 1


@contextlib.contextmanager
def registry_replaced_by(registry: Registry, status: int | None) -> Iterator[None]:
    """Stop the registry; with a status, answer every request on its port with that status."""
    registry.stop()
    server = None
    if status is not None:
        answer = status

        class Refuse(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(answer)
                self.send_header("Retry-After", "60")
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}')

            do_HEAD = do_GET  # noqa: N815 - http.server's naming

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", registry.port), Refuse)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        registry.start()


@pytest.mark.parametrize("status", [None, 429, 503])
def test_stale_if_error_builds_with_the_local_copy(
    engine_workspace: Workspace, registry: Registry, status: int | None
) -> None:
    ws = engine_workspace
    assert ws.run("build", "app", "-B", BUILDER).returncode == 0
    ws.age_log(timedelta(days=3))
    before = ws.log_path.read_text()
    with registry_replaced_by(registry, status):
        run = ws.run(
            "build", "app", "-B", BUILDER, "--pull-policy", "daily", env={"PPACK_PULL_TIMEOUT": "20"}
        )
    assert run.returncode == 0, run.stderr
    warnings = [line for line in run.stderr.splitlines() if line.startswith("Warning: could not refresh")]
    assert len(warnings) == 3, run.stderr
    assert any(
        w.startswith("Warning: could not refresh reliable/builder:1 (")
        and w.endswith("using the local copy pulled 3 days ago")
        for w in warnings
    ), warnings
    assert run.pack_argv[1:4] == ["build", "--pull-policy", "never"]
    assert ws.log_path.read_text() == before  # not recorded: the next build tries again
    assert run.stderr.splitlines()[-1] == "ppack: pulled nothing; 3 images due but not refreshed (daily)"


@pytest.mark.parametrize("status", [None, 429])
def test_a_missing_image_with_the_registry_down_is_an_error(
    engine_workspace: Workspace, registry: Registry, status: int | None
) -> None:
    with registry_replaced_by(registry, status):
        run = engine_workspace.run("build", "app", "-B", BUILDER, env={"PPACK_PULL_TIMEOUT": "20"})
    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1
    assert errors[0].startswith("ERROR: failed to pull reliable/builder:1 (builder): ")
    assert run.pack_calls == []


def test_always_with_the_registry_down_is_an_error(engine_workspace: Workspace, registry: Registry) -> None:
    ws = engine_workspace
    assert ws.run("build", "app", "-B", BUILDER).returncode == 0
    with registry_replaced_by(registry, None):
        run = ws.run("build", "app", "-B", BUILDER, "--pull-policy", "always")
    assert run.returncode == 1
    assert "ERROR: failed to pull" in run.stderr
    assert run.pack_calls == []


def test_an_image_the_registry_does_not_have_is_an_error_even_when_present(
    engine_workspace: Workspace, registry: Registry
) -> None:
    ws = engine_workspace
    publish_builder(registry, "reliable/gone:1", RUN)
    assert ws.run("build", "app", "-B", "reliable/gone:1").returncode == 0
    ws.age_log(timedelta(days=3))
    run = ws.run("build", "app", "-B", "reliable/doesnotexist:1")
    assert run.returncode == 1
    assert run.stderr.splitlines()[-1].startswith("ERROR: failed to pull reliable/doesnotexist:1 (builder): ")


@pytest.mark.parametrize(
    "content",
    [
        b'{"schema": 1, "daemons": {',
        b"\x00\xff\xfe garbage",
        b'{"schema": 99, "daemons": {}}',
        b'{"schema": 1, "daemons": []}',
        b"[]",
    ],
)
def test_corrupt_log_warns_once_is_kept_aside_and_rewritten(
    engine_workspace: Workspace, content: bytes
) -> None:
    ws = engine_workspace
    ws.log_path.write_bytes(content)
    run = ws.run("build", "app", "-B", BUILDER, "--pull-policy", "daily")
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("Warning: ignoring the unreadable pull log") == 1
    kept = list(ws.pack_home.glob("ppack-pull-log.json.corrupt-*"))
    assert len(kept) == 1
    assert kept[0].read_bytes() == content
    assert len(ws.records()) == 3  # rewritten, never "treated as fresh"


def test_a_directory_in_place_of_the_log(engine_workspace: Workspace) -> None:
    ws = engine_workspace
    ws.log_path.mkdir()
    run = ws.run("build", "app", "-B", BUILDER)
    assert run.returncode == 0, run.stderr
    assert "Warning: ignoring the unreadable pull log" in run.stderr
    assert len(ws.records()) == 3


@contextlib.contextmanager
def mounted_tmpfs(path: Path, options: str) -> Iterator[None]:
    """A tmpfs of our own at ``path`` (root only): read-only, or tiny and full."""
    path.mkdir(exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", str(path)], check=True)


@contextlib.contextmanager
def unwritable_home(ws: Workspace, kind: str) -> Iterator[None]:
    home = ws.root / f"{kind}-home"
    if os.geteuid() != 0:
        home.mkdir()
        home.chmod(0o555)
        ws.env["PACK_HOME"] = str(home)
        try:
            yield
        finally:
            home.chmod(0o755)
        return
    options = "ro,size=1m" if kind == "read-only" else "size=64k"
    with mounted_tmpfs(home, options):
        if kind == "full":
            with contextlib.suppress(OSError), (home / "filler").open("wb") as filler:
                while True:
                    filler.write(b"x" * 4096)
                    filler.flush()
        ws.env["PACK_HOME"] = str(home)
        yield


@pytest.mark.parametrize("kind", ["read-only", "full"])
def test_unwritable_pack_home_still_builds(
    engine_workspace: Workspace, registry: Registry, kind: str
) -> None:
    ws = engine_workspace
    with unwritable_home(ws, kind):
        mark = registry.mark()
        run = ws.run("build", "app", "-B", BUILDER)
        again = ws.run("build", "app", "-B", BUILDER)
        assert not ws.log_path.exists() or ws.log_path.stat().st_size == 0
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("Warning: could not save the pull log") == 1, run.stderr
    assert run.pack_argv[1:4] == ["build", "--pull-policy", "never"]
    # Nothing was recorded, so under daily the next build pulls (the images are present: HEADs only).
    assert again.returncode == 0, again.stderr
    assert pulls(registry, mark) == dict.fromkeys(REPOS, 2)
