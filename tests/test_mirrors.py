"""
Registry mirrors and the fleet topology (issue #3): a pull-through cache (a
second docker-registry in proxy mode) named in pack's [registry-mirrors].
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import Workspace
from support.engine import (
    Dockerd,
    Registry,
    lifecycle_labels,
    publish_builder,
    publish_image,
    run_image_labels,
)


BUILDER = "fleet/builder:1"
RUN = "fleet/run:1"
LIFECYCLE = "buildpacksio/lifecycle:0.21.0"


@pytest.fixture(scope="module")
def cache(registry: Registry) -> Iterator[Registry]:
    publish_builder(registry, BUILDER, RUN)
    publish_image(None, registry, RUN, labels=run_image_labels())
    publish_image(None, registry, LIFECYCLE, labels=lifecycle_labels())
    proxy = Registry(proxy_of=registry.host)
    proxy.start()
    yield proxy
    proxy.close()


def test_pulls_go_through_the_cache_under_the_names_pack_reads(
    engine_workspace: Workspace, registry: Registry, cache: Registry, clean_daemon: Dockerd
) -> None:
    ws = engine_workspace
    ws.pack_config(f'[registry-mirrors]\n"index.docker.io" = "{cache.host}"\n')
    upstream, through = registry.mark(), cache.mark()
    run = ws.run("build", "app", "-B", BUILDER)
    assert run.returncode == 0, run.stderr
    for repo in ("fleet/builder", "fleet/run", "buildpacksio/lifecycle"):
        assert cache.pulls_of(repo, through) == 1, repo
        assert registry.pulls_of(repo, upstream) >= 1, repo  # the cache filled itself from upstream
    # pack (under never) reads the translated names, and picks the run image by its own name.
    for name in (f"{cache.host}/{BUILDER}", f"{cache.host}/{RUN}", f"{cache.host}/{LIFECYCLE}", RUN):
        assert clean_daemon.image_exists(name), name
    assert set(ws.records()) == {
        f"{cache.host}/fleet/builder:1",
        f"{cache.host}/fleet/run:1",
        f"{cache.host}/buildpacksio/lifecycle:0.21.0",
    }
    upstream, through = registry.mark(), cache.mark()
    again = ws.run("build", "app", "-B", BUILDER)
    assert again.returncode == 0, again.stderr
    assert cache.manifest_requests(through) == []
    assert registry.manifest_requests(upstream) == []


def test_star_mirror_applies_to_every_registry(
    engine_workspace: Workspace, cache: Registry, clean_daemon: Dockerd
) -> None:
    ws = engine_workspace
    ws.pack_config(f'[registry-mirrors]\n"*" = "{cache.host}"\n"index.docker.io" = "unused.example:5000"\n')
    run = ws.run(
        "build", "app", "-B", BUILDER, "--lifecycle-image", "docker.io/buildpacksio/lifecycle:0.21.0"
    )
    assert run.returncode == 0, run.stderr
    assert clean_daemon.image_exists(f"{cache.host}/{BUILDER}")
    assert clean_daemon.image_exists(f"{cache.host}/{LIFECYCLE}")


def test_config_run_image_mirror_on_the_builders_registry_is_preferred(
    engine_workspace: Workspace, registry: Registry, clean_daemon: Dockerd
) -> None:
    publish_image(None, registry, "mirrors/run:1", labels=run_image_labels())
    ws = engine_workspace
    ws.pack_config('[[run-images]]\nimage = "fleet/run:1"\nmirrors = ["mirrors/run:1"]\n')
    mark = registry.mark()
    run = ws.run("build", "app", "-B", BUILDER, "--trust-builder")
    assert run.returncode == 0, run.stderr
    assert registry.pulls_of("mirrors/run", mark) == 1
    assert registry.pulls_of("fleet/run", mark) == 0
