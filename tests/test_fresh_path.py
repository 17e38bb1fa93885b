"""
The fresh path stays light (issue #6): when nothing is due, ppack reaches the
hand-over to pack without importing docker-py or an HTTP stack, and without a
single request to any registry.

Untimed on purpose: speed is measured by benchmarks/run.py, where repetitions
and medians make the figures mean something; a test can only check the cause.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from conftest import Workspace
from support.engine import Registry, lifecycle_labels, publish_builder, publish_image, run_image_labels


BUILDER = "fresh/builder:1"  # not trusted: pack needs the lifecycle image too, so three images
RUN = "fresh/run:1"
LIFECYCLE = "buildpacksio/lifecycle:0.21.0"
BUILD = ("build", "app", "-B", BUILDER, "--pull-policy", "daily")

# What a fresh run must not load: docker-py and the HTTP stack under it.
HEAVY = ("docker", "requests", "urllib3", "http.client")

# Runs ppack's own entry point, but turns the exec of pack into a dump of
# sys.modules: the moment that matters is just before ppack becomes pack.
PROBE = """
import json, os, sys

dump = sys.argv[1]

def handed_over(path, argv, *env):
    with open(dump, "w") as out:
        json.dump({"modules": sorted(sys.modules), "argv": list(argv)}, out)
    os._exit(0)

for name in ("execv", "execve", "execvp", "execvpe"):
    setattr(os, name, handed_over)

from ppack.__main__ import main

main(sys.argv[2:])
"""

# The registry writes an access line after it answers; wait this long before counting.
LOG_SETTLE = 0.5


@pytest.fixture(scope="module", autouse=True)
def images(registry: Registry) -> None:
    publish_builder(registry, BUILDER, RUN)
    publish_image(None, registry, RUN, labels=run_image_labels())
    publish_image(None, registry, LIFECYCLE, labels=lifecycle_labels())


def access_lines(registry: Registry, since: int) -> list[str]:
    """Every request the registry logged after ``since``, whatever its method or path."""
    with registry.access_log_path.open("rb") as log:
        log.seek(since)
        return [line for line in log.read().decode(errors="replace").splitlines() if " HTTP/" in line]


def run_probe(ws: Workspace) -> tuple[subprocess.CompletedProcess[str], dict[str, list[str]]]:
    dump = ws.root / "fresh-modules.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(dump), *BUILD],
        env=ws.env,
        cwd=ws.app,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert dump.exists(), f"ppack never reached the hand-over to pack:\n{done.stderr}"
    found: dict[str, list[str]] = json.loads(dump.read_text())
    return done, found


def test_fresh_path_imports_no_docker_and_sends_no_registry_request(
    engine_workspace: Workspace, registry: Registry
) -> None:
    ws = engine_workspace
    cold = ws.run(*BUILD)
    assert cold.returncode == 0, cold.stderr
    time.sleep(LOG_SETTLE)
    mark = registry.mark()

    done, found = run_probe(ws)

    assert "3 images fresh (daily); nothing to pull" in done.stderr
    assert found["argv"][1:4] == ["build", "--pull-policy", "never"]
    modules = set(found["modules"])
    assert "ppack.build" in modules, "the probe did not run the build path"
    loaded = sorted(m for m in modules if m in HEAVY or m.startswith(tuple(f"{h}." for h in HEAVY)))
    assert loaded == [], f"the fresh path imported {loaded}"
    time.sleep(LOG_SETTLE)
    assert access_lines(registry, mark) == []


def test_the_probe_sees_docker_when_something_is_due(engine_workspace: Workspace) -> None:
    """The probe itself works: a run that pulls does load docker-py before handing over."""
    _, found = run_probe(engine_workspace)
    assert "docker" in found["modules"]
