"""
The benchmark's world: the tests' private registry and dockerd, a delay proxy
between them, three layered images, and private homes for ppack.

The engine is tests/support/engine.py itself (imported, not copied), so the
benchmark measures against exactly what the tests assert against. dockerd's
registry mirror is the delay proxy for the whole run: a fresh ppack that
touched a registry at all would show up both in the access log and as 100 ms.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
# The engine lives with the tests; importing it keeps one definition of "the engine".
sys.path.insert(0, str(REPO_ROOT / "tests"))

from delayproxy import DelayProxy  # noqa: E402

from support import engine  # noqa: E402


BUILDER = "example/builder:1"  # not a trusted builder, so pack also reads the lifecycle image
RUN_IMAGE = "heroku/heroku:24"
LIFECYCLE = "buildpacksio/lifecycle:0.21.0"
IMAGES = (BUILDER, RUN_IMAGE, LIFECYCLE)


@dataclass(frozen=True)
class ImageShape:
    """How big the published images are: ``layers`` layers of ``layer_bytes`` random bytes."""

    layers: int
    layer_bytes: int


@dataclass
class Bench:
    registry: engine.Registry
    proxy: DelayProxy
    dockerd: engine.Dockerd
    workdir: Path
    shape: ImageShape
    stand_in_pack: Path

    @property
    def app(self) -> Path:
        return self.workdir / "app"

    def env(self, pack_home: Path, **extra: str) -> dict[str, str]:
        """A clean environment, as conftest builds it, but no PPACK_CONFIG: the real default."""
        home = self.workdir / "home"
        return {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(home),
            "PACK_HOME": str(pack_home),
            "PPACK_PACK": str(self.stand_in_pack),
            "DOCKER_HOST": self.dockerd.host,
            "DOCKER_CONFIG": str(home / ".docker"),
            **extra,
        }

    def pack_home(self, name: str) -> Path:
        folder = self.workdir / name
        folder.mkdir(exist_ok=True)
        return folder

    def publish_all(self) -> None:
        """Publish (or republish, as an upstream update) the builder, run and lifecycle images."""
        publish_layered(self.registry, BUILDER, engine.builder_labels(RUN_IMAGE), self.shape)
        publish_layered(self.registry, RUN_IMAGE, engine.run_image_labels(), self.shape)
        publish_layered(self.registry, LIFECYCLE, engine.lifecycle_labels(), self.shape)

    def registry_requests(self, since: int) -> int:
        """Every request the registry logged after ``since`` (any method, any path)."""
        try:
            with self.registry.access_log_path.open("rb") as log:
                log.seek(since)
                data = log.read()
        except FileNotFoundError:
            return 0
        return sum(1 for line in data.splitlines() if b'"' in line and b" HTTP/" in line)

    def remove_dangling(self) -> None:
        """Images an upstream update left without a tag: keeps vfs storage small."""
        api = self.dockerd.api
        for image in api.images(filters={"dangling": True}):
            with contextlib.suppress(Exception):
                api.remove_image(image["Id"], force=True)


def engine_problem() -> str | None:
    """Why the tests' engine cannot run here (not root, a binary missing), or None."""
    return engine.engine_available()


@contextlib.contextmanager
def started(delay: float, shape: ImageShape) -> Iterator[Bench]:
    """Registry, proxy, dockerd (mirror = proxy), published images; all stopped at the end."""
    workdir = Path(tempfile.mkdtemp(prefix="ppb", dir="/tmp"))
    registry = engine.Registry()
    dockerd = engine.Dockerd()
    proxy: DelayProxy | None = None
    try:
        registry.start()
        proxy = DelayProxy(registry.port, delay).__enter__()
        dockerd.start(mirror=proxy.url)
        bench = Bench(registry, proxy, dockerd, workdir, shape, _stand_in_pack(workdir))
        for folder in (bench.app, workdir / "home" / ".docker"):
            folder.mkdir(parents=True)
        bench.publish_all()
        # posix_spawn has no cwd: children start in the app folder, with no project.toml.
        previous = Path.cwd()
        os.chdir(bench.app)
        try:
            yield bench
        finally:
            os.chdir(previous)
    finally:
        dockerd.close()
        if proxy is not None:
            proxy.close()
        registry.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _stand_in_pack(workdir: Path) -> Path:
    """benchmarks/pack copied out with its exec bit set, whatever the checkout kept."""
    target = workdir / "bin" / "pack"
    target.parent.mkdir()
    shutil.copyfile(BENCH_DIR / "pack", target)
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return target


def publish_layered(registry: engine.Registry, name: str, labels: dict[str, str], shape: ImageShape) -> str:
    """Real images have many layers, and dockerd fetches a pull's layers side by side."""
    return engine.publish_image(
        None,
        registry,
        name,
        labels=labels,
        env=engine.BUILDER_ENV,
        size=shape.layer_bytes,
        layers=shape.layers,
    )
