"""
Session fixtures: a private dockerd and docker-registry that the tests start
and stop themselves; nothing here touches the user's own daemon.

Docker Hub names (``heroku/builder:24``) are served by the private registry,
which dockerd uses as its registry mirror. In CI (``CI=true``) a machine
without the engine fails the run instead of skipping.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from support.engine import Dockerd, Registry, engine_available


FAKEPACK = Path(os.environ.get("PPACK_TEST_FAKEPACK") or Path(__file__).parent / "fakepack" / "pack")

# Variables a developer's own shell may carry that would change what ppack or pack do.
_ISOLATE = (
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
    "PACK_HOME",
    "PACK_VOLUME_KEY",
    "NO_COLOR",
    "FORCE_COLOR",
)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name in _ISOLATE or name.startswith(("PPACK_", "FAKEPACK_")):
            monkeypatch.delenv(name, raising=False)


@dataclass
class Engine:
    registry: Registry
    dockerd: Dockerd


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    problem = engine_available()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the Docker engine and registry: {problem}")
        pytest.skip(f"no Docker engine here: {problem}")
    registry = Registry()
    dockerd = Dockerd()
    try:
        registry.start()
        dockerd.start(mirror=registry)
        yield Engine(registry, dockerd)
    finally:
        dockerd.close()
        registry.close()


@pytest.fixture(scope="session")
def registry(engine: Engine) -> Registry:
    return engine.registry


@pytest.fixture(scope="session")
def dockerd(engine: Engine) -> Dockerd:
    return engine.dockerd


@pytest.fixture
def clean_daemon(dockerd: Dockerd) -> Dockerd:
    dockerd.remove_all_images()
    return dockerd


@dataclass
class Run:
    """One finished ppack run and what the stand-in pack saw."""

    returncode: int
    stdout: str
    stderr: str
    pack_calls: list[dict[str, Any]]

    @property
    def pack_argv(self) -> list[str]:
        assert self.pack_calls, f"pack was not started; stderr:\n{self.stderr}"
        argv: list[str] = self.pack_calls[-1]["argv"]
        return argv


@dataclass
class Workspace:
    """A private HOME, PACK_HOME and app folder, and a way to run ppack in them."""

    root: Path
    env: dict[str, str]

    @property
    def pack_home(self) -> Path:
        return Path(self.env["PACK_HOME"])

    @property
    def log_path(self) -> Path:
        return self.pack_home / "ppack-pull-log.json"

    @property
    def app(self) -> Path:
        return self.root / "app"

    @property
    def record_path(self) -> Path:
        return Path(self.env["FAKEPACK_RECORD"])

    def pack_config(self, text: str) -> None:
        (self.pack_home / "config.toml").write_text(text)

    def run(self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120) -> Run:
        before = self._record_lines()
        done = subprocess.run(
            [sys.executable, "-m", "ppack", *args],
            env={**self.env, **(env or {})},
            cwd=self.app,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        calls = [json.loads(line) for line in self._record_lines()[len(before) :]]
        return Run(done.returncode, done.stdout, done.stderr, calls)

    def age_log(self, by: timedelta) -> None:
        """Move every record's pull time back: time passes without sleeping."""
        from ppack import pulllog

        log = pulllog.read(self.log_path)
        for daemon in log.daemons.values():
            daemon.last_seen -= by
            for key, record in list(daemon.images.items()):
                daemon.images[key] = pulllog.Record(
                    record.pulled_at - by, record.name, record.image_id, record.repo_digest, record.platform
                )
        pulllog.write_atomic(self.log_path, log.to_json())

    def records(self) -> dict[str, Any]:
        from ppack import pulllog

        log = pulllog.read(self.log_path)
        return {key: record for daemon in log.daemons.values() for key, record in daemon.images.items()}

    def _record_lines(self) -> list[str]:
        try:
            return self.record_path.read_text().splitlines()
        except FileNotFoundError:
            return []


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    home = tmp_path / "home"
    pack_home = tmp_path / "pack-home"
    for folder in (home, pack_home, tmp_path / "app"):
        folder.mkdir()
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "PACK_HOME": str(pack_home),
        "PPACK_PACK": str(FAKEPACK),
        "PPACK_CONFIG": str(tmp_path / "ppack-config.toml"),
        "FAKEPACK_RECORD": str(tmp_path / "pack-calls.jsonl"),
        "DOCKER_CONFIG": str(home / ".docker"),
    }
    return Workspace(tmp_path, env)


@pytest.fixture
def engine_workspace(workspace: Workspace, clean_daemon: Dockerd) -> Workspace:
    """A workspace whose ppack and pack talk to the private, emptied daemon."""
    workspace.env.update(clean_daemon.env())
    return workspace
