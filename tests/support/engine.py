"""A real, private Docker engine for tests: dockerd, registries, and tiny images.

Everything runs from the Debian binaries (``dockerd``, ``docker``, ``docker-registry``)
under a short temporary directory in /tmp, because unix socket paths (dockerd's own and
its containerd's) must stay under ~100 characters.

The daemon is started with ``--registry-mirror`` pointing at a local registry, so a pull
of a Docker Hub name such as ``heroku/builder:24`` is served by that registry; its access
log then tells a test exactly which manifests were requested.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import io
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    import docker

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0

# Proxy variables in the environment must never divert loopback traffic.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

_ACCESS_LINE = re.compile(
    r'^\S+ \S+ \S+ \[[^\]]*\] "(?P<method>[A-Z]+) (?P<path>\S+) [^"]*" (?P<status>\d{3}) '
)
_MANIFEST_PATH = re.compile(r"^/v2/(?P<repo>.+)/manifests/(?P<ref>[^/?]+)(?:\?.*)?$")

DOCKER_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")


class EngineError(RuntimeError):
    """The test engine could not be started or used."""


def engine_available() -> str | None:
    """Why the real engine can't be used here, or None when it can."""
    if os.geteuid() != 0:
        return "the private dockerd needs root"
    for binary in ("dockerd", "docker", "docker-registry"):
        if shutil.which(binary) is None:
            return f"{binary} is not installed"
    return None


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _short_tempdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="ppk", dir="/tmp"))


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _wait_ready(
    probe: Callable[[], bool],
    proc: subprocess.Popen[bytes],
    what: str,
    log: Path,
    timeout: float = READY_TIMEOUT,
) -> None:
    """Poll ``probe`` until it succeeds; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EngineError(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        if probe():
            return
        time.sleep(0.05)
    raise EngineError(f"{what} not ready after {timeout:.0f} s:\n{_tail(log)}")


def _stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then SIGKILL to the whole process group it leads (we started it)."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(STOP_TIMEOUT)


def _spawn(
    argv: Sequence[str], stdout: Path, stderr: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    # Append, so a restarted process keeps the offsets tests took with mark().
    with stdout.open("ab") as out, stderr.open("ab") as err:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=None if env is None else {**os.environ, **env},
            start_new_session=True,
        )


class _RefusingPort:
    """A loopback port bound but never listening: every connection is refused."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]

    def close(self) -> None:
        self._sock.close()


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class ManifestRequest:
    """One ``/v2/<repository>/manifests/<reference>`` request from the access log."""

    method: str
    repository: str
    reference: str
    status: int

    @property
    def by_tag(self) -> bool:
        return not self.reference.startswith("sha256:")


def parse_access_log(text: str) -> list[ManifestRequest]:
    requests = []
    for line in text.splitlines():
        access = _ACCESS_LINE.match(line)
        if access is None:
            continue
        manifest = _MANIFEST_PATH.match(access["path"])
        if manifest is None:
            continue
        requests.append(
            ManifestRequest(access["method"], manifest["repo"], manifest["ref"], int(access["status"]))
        )
    return requests


class Registry:
    """A ``docker-registry`` on a loopback port, optionally a pull-through cache.

    ``proxy_of`` is the upstream registry (``127.0.0.1:PORT`` or a URL); the registry
    then runs as a pull-through cache of it and refuses pushes.
    """

    def __init__(self, proxy_of: str | None = None) -> None:
        self.proxy_of = proxy_of
        self.workdir = _short_tempdir()
        self.access_log_path = self.workdir / "access.log"
        self.error_log_path = self.workdir / "registry.log"
        self._port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Registry:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._port is None:
            raise EngineError("registry was never started")
        return self._port

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start, or restart on the port used before (storage is kept)."""
        if self.running:
            return
        if self._port is None:
            self._port = free_port()
        config = self.workdir / "config.yml"
        config.write_text(self._config_yaml())
        argv = ["docker-registry", "serve", str(config)]
        self._proc = _spawn(argv, self.access_log_path, self.error_log_path)
        _wait_ready(self._answers, self._proc, f"registry {self.host}", self.error_log_path)

    def stop(self) -> None:
        _stop_process(self._proc)
        self._proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    @contextlib.contextmanager
    def moved(self) -> Iterator[int]:
        """Serve from another port for a while; yields the usual port, free for a stand-in.

        dockerd's mirror setting names the usual port, so a stand-in there sees
        every request the daemon makes, and may pass them on to ``self.port``.
        """
        usual = self.port
        self.stop()
        self._port = free_port()
        self.start()
        try:
            yield usual
        finally:
            self.stop()
            self._port = usual
            self.start()

    def _config_yaml(self) -> str:
        lines = [
            "version: 0.1",
            "log:",
            "  level: warn",
            "  accesslog:",
            "    disabled: false",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {self.workdir / 'storage'}",
            "http:",
            f"  addr: {self.host}",
            # A fixed secret keeps upload state valid across a restart.
            "  secret: ppack-tests",
        ]
        if self.proxy_of is not None:
            upstream = self.proxy_of
            if "://" not in upstream:
                upstream = f"http://{upstream}"
            lines += ["proxy:", f"  remoteurl: {upstream}"]
        return "\n".join(lines) + "\n"

    def _answers(self) -> bool:
        try:
            with _OPENER.open(f"{self.url}/v2/", timeout=2) as response:
                return bool(response.status == 200)
        except (OSError, http.client.HTTPException):
            return False

    def mark(self) -> int:
        """The current end of the access log, to pass as ``since`` later."""
        try:
            return self.access_log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def manifest_requests(self, since: int = 0) -> list[ManifestRequest]:
        try:
            with self.access_log_path.open("rb") as log:
                log.seek(since)
                data = log.read()
        except FileNotFoundError:
            return []
        # A line still being written has no newline yet; it is read next time.
        complete = data[: data.rfind(b"\n") + 1]
        return parse_access_log(complete.decode(errors="replace"))

    def pulls_of(self, repository: str, since: int = 0) -> int:
        """Tag-level manifest requests (HEAD or GET by tag) of a registry path.

        ``repository`` is the path inside the registry: ``heroku/builder``,
        ``library/ubuntu``. A pull by the daemon does one such request per image.
        """
        return sum(
            1
            for request in self.manifest_requests(since)
            if request.repository == repository and request.by_tag and request.method in ("HEAD", "GET")
        )


# --------------------------------------------------------------------------- daemon


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, socket_path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._socket_path)
        self.sock = sock


class Dockerd:
    """A private dockerd (vfs storage, no networking) on a unix socket."""

    def __init__(self) -> None:
        self.workdir = _short_tempdir()
        self.socket_path = self.workdir / "d.sock"
        self.log_path = self.workdir / "dockerd.log"
        self.docker_config = self.workdir / "docker-config"
        self._proc: subprocess.Popen[bytes] | None = None
        self._api: docker.APIClient | None = None
        self._refusing = _RefusingPort()

    def __enter__(self) -> Dockerd:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def host(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def env(self) -> dict[str, str]:
        """Variables that point docker clients (and pack) at this daemon."""
        return {"DOCKER_HOST": self.host, "DOCKER_BUILDKIT": "0"}

    def start(self, mirror: Registry | str | None = None) -> None:
        """Start dockerd; ``mirror`` (a registry, or any URL such as a proxy's) serves Docker Hub."""
        if self.running:
            return
        config_file = self.workdir / "daemon.json"
        # Our own (empty) config file, so /etc/docker/daemon.json can't leak in.
        config_file.write_text("{}\n")
        self.docker_config.mkdir(exist_ok=True)
        argv = self._argv(config_file, mirror)
        self._proc = _spawn(argv, self.log_path, self.log_path, self._offline_env())
        _wait_ready(self._pings, self._proc, "dockerd", self.log_path)

    def _argv(self, config_file: Path, mirror: Registry | str | None) -> list[str]:
        argv = [
            "dockerd",
            f"--config-file={config_file}",
            "--storage-driver=vfs",
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            f"--data-root={self.workdir / 'data'}",
            f"--exec-root={self.workdir / 'exec'}",
            f"--host={self.host}",
            f"--pidfile={self.workdir / 'd.pid'}",
        ]
        if mirror is not None:
            argv.append(f"--registry-mirror={mirror if isinstance(mirror, str) else mirror.url}")
        return argv

    def _offline_env(self) -> dict[str, str]:
        """Send registry traffic that is not for loopback to a refusing port.

        When the mirror lacks an image, dockerd falls back to Docker Hub; through this
        proxy that fails at once instead of leaving the machine.
        """
        proxy = f"http://127.0.0.1:{self._refusing.port}"
        no_proxy = "127.0.0.1,localhost,::1"
        return {
            "HTTP_PROXY": proxy,
            "HTTPS_PROXY": proxy,
            "NO_PROXY": no_proxy,
            "http_proxy": proxy,
            "https_proxy": proxy,
            "no_proxy": no_proxy,
        }

    def _pings(self) -> bool:
        if not self.socket_path.exists():
            return False
        connection = _UnixHTTPConnection(str(self.socket_path), timeout=2)
        try:
            connection.request("GET", "/_ping")
            return connection.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None
        _stop_process(self._proc)
        self._proc = None

    def close(self) -> None:
        self.stop()
        self._refusing.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def api(self) -> docker.APIClient:
        """A docker-py low-level client for this daemon."""
        if self._api is None:
            import docker

            self._api = docker.APIClient(base_url=self.host, version="auto", timeout=120)
        return self._api

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the docker CLI against this daemon (with a private, empty CLI config)."""
        env = {**os.environ, **self.env(), "DOCKER_CONFIG": str(self.docker_config)}
        return subprocess.run(["docker", *args], env=env, capture_output=True, text=True, check=check)

    def inspect(self, name: str) -> dict[str, Any] | None:
        import docker

        try:
            result: dict[str, Any] = self.api.inspect_image(name)
        except docker.errors.NotFound:
            return None
        return result

    def image_exists(self, name: str) -> bool:
        return self.inspect(name) is not None

    def image_id(self, name: str) -> str | None:
        found = self.inspect(name)
        return None if found is None else str(found["Id"])

    def images(self) -> list[str]:
        """Every tag and digest name the daemon knows."""
        names: list[str] = []
        for image in self.api.images():
            names += image.get("RepoTags") or []
            names += image.get("RepoDigests") or []
        return sorted(name for name in names if name != "<none>:<none>")

    def remove_all_images(self) -> None:
        """Empty the daemon; a few API calls, no CLI start-up per image."""
        import docker

        for _ in range(3):
            remaining = self.api.images(all=True)
            if not remaining:
                return
            for image in remaining:
                # A parent can refuse (409) until its child is gone: the next round gets it.
                with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                    self.api.remove_image(image["Id"], force=True)
        leftover = self.api.images(all=True)
        if leftover:
            raise EngineError(f"could not empty the daemon: {leftover}")


# --------------------------------------------------------------------------- images


def host_arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine)


def repository_for(registry: Registry, name: str) -> tuple[str, str]:
    """(path in the registry, tag) that a Docker Hub name is served from via the mirror.

    ``heroku/builder:24`` -> (``heroku/builder``, ``24``); ``ubuntu`` ->
    (``library/ubuntu``, ``latest``); ``127.0.0.1:PORT/x/y:1`` -> (``x/y``, ``1``).
    """
    for prefix in (f"{registry.host}/", f"localhost:{registry.port}/"):
        if name.startswith(prefix):
            return _split_tag(name[len(prefix) :])
    repository, tag = _split_tag(_strip_docker_hub(name))
    if "/" not in repository:
        repository = f"library/{repository}"
    return repository, tag


def _strip_docker_hub(name: str) -> str:
    first, slash, rest = name.partition("/")
    if slash and first in DOCKER_HUB_ALIASES:
        return rest
    if slash and (first == "localhost" or "." in first or ":" in first):
        raise ValueError(f"{name!r} is on registry {first!r}, not Docker Hub or ours")
    return name


def _split_tag(reference: str) -> tuple[str, str]:
    if "@" in reference:
        raise ValueError(f"cannot publish to a digest reference: {reference!r}")
    repository, colon, tag = reference.rpartition(":")
    if not colon or "/" in tag:
        return reference, "latest"
    return repository, tag


def _registry_request(
    method: str, url: str, data: bytes | None = None, content_type: str | None = None
) -> http.client.HTTPResponse:
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http://127.0.0.1 only
    if content_type is not None:
        request.add_header("Content-Type", content_type)
    try:
        response: http.client.HTTPResponse = _OPENER.open(request, timeout=60)
    except urllib.error.HTTPError as error:
        body = error.read().decode(errors="replace")
        raise EngineError(f"{method} {url}: {error.code} {body}") from error
    return response


def _upload_blob(registry: Registry, repository: str, data: bytes) -> str:
    digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
    with _registry_request("POST", f"{registry.url}/v2/{repository}/blobs/uploads/") as started:
        location = started.headers["Location"]
    upload = urllib.parse.urljoin(registry.url, location)
    separator = "&" if "?" in upload else "?"
    url = f"{upload}{separator}digest={urllib.parse.quote(digest)}"
    _registry_request("PUT", url, data, "application/octet-stream").close()
    return digest


def _layer(payload: bytes) -> tuple[bytes, str]:
    """A gzipped one-file layer and its diff id (digest of the plain tar)."""
    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w") as tar:
        info = tarfile.TarInfo("payload")
        info.size = len(payload)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(payload))
    tar_bytes = plain.getvalue()
    diff_id = f"sha256:{hashlib.sha256(tar_bytes).hexdigest()}"
    return gzip.compress(tar_bytes, compresslevel=1, mtime=0), diff_id


def _image_config(
    labels: Mapping[str, str], env: Mapping[str, str], diff_ids: list[str], arch: str, os_name: str
) -> bytes:
    # A fresh creation time makes every publish a new image, as a rebuild would be.
    created = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    config = {
        "architecture": arch,
        "os": os_name,
        "created": created,
        "config": {"Env": [f"{k}={v}" for k, v in env.items()], "Labels": dict(labels)},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": created, "created_by": "ppack tests: publish_image"} for _ in diff_ids],
    }
    return json.dumps(config, sort_keys=True).encode()


def publish_image(
    dockerd: Dockerd | None,
    registry: Registry,
    name: str,
    *,
    labels: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    payload: bytes = b"",
    size: int = 0,
    arch: str | None = None,
    os_name: str = "linux",
    layers: int = 1,
) -> str:
    """Push a tiny image as ``name`` and return its manifest digest.

    The image is assembled and pushed through the registry API directly, which is what
    ``docker build`` + ``docker push`` of a ``FROM scratch`` image would produce but ~100x
    faster, and it never touches the daemon (``dockerd`` is accepted for call-site
    symmetry; the daemon stays as empty as it was). ``size`` adds that many random
    bytes to each of ``layers`` layers, so pulls move measurable data (dockerd fetches
    a pull's layers side by side, which one layer would hide). Publishing the same name
    again replaces it with a new image (a new digest), like an upstream update.
    """
    del dockerd  # not needed: see the docstring
    repository, tag = repository_for(registry, name)
    blobs = [_layer((payload if n == 0 else b"") + os.urandom(size)) for n in range(layers)]
    diff_ids = [diff_id for _, diff_id in blobs]
    config = _image_config(labels or {}, env or {}, diff_ids, arch or host_arch(), os_name)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": len(config),
            "digest": _upload_blob(registry, repository, config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": len(layer),
                "digest": _upload_blob(registry, repository, layer),
            }
            for layer, _ in blobs
        ],
    }
    body = json.dumps(manifest).encode()
    url = f"{registry.url}/v2/{repository}/manifests/{tag}"
    _registry_request("PUT", url, body, str(manifest["mediaType"])).close()
    return f"sha256:{hashlib.sha256(body).hexdigest()}"


# --------------------------------------------------------------------------- labels

BUILDER_ENV: Mapping[str, str] = {"CNB_USER_ID": "1000", "CNB_GROUP_ID": "1000"}
DEFAULT_STACK_ID = "io.buildpacks.stacks.noble"
DEFAULT_BUILDPACKS: tuple[Mapping[str, str], ...] = (
    {"id": "heroku/python", "version": "1.0.0", "homepage": "https://example.test/python"},
    {"id": "heroku/procfile", "version": "4.0.0", "homepage": "https://example.test/procfile"},
)
# What lifecycle 0.21 declares; platform 0.13 is inside pack 0.40's 0.3..0.15 range.
_BUILDPACK_APIS = [f"0.{minor}" for minor in range(2, 12)]
_PLATFORM_APIS = [f"0.{minor}" for minor in range(3, 15)]


def _run_image_entry(image: str, mirrors: list[str] | None) -> dict[str, object]:
    # pack writes "mirrors": null when there are none (no omitempty on the field).
    return {"image": image, "mirrors": mirrors}


def builder_metadata(
    run_image: str,
    run_mirrors: list[str] | None = None,
    lifecycle_version: str = "0.21.0",
    buildpacks: Sequence[Mapping[str, str]] | None = None,
    legacy_stack: bool = False,
) -> str:
    """``io.buildpacks.builder.metadata`` shaped as ``pack builder create`` 0.40 writes it.

    ``legacy_stack`` leaves out ``images``, as builders from before RFC-0096 do, so only
    ``stack.runImage`` names the run image.
    """
    metadata: dict[str, object] = {
        "description": "ppack test builder",
        "buildpacks": [dict(bp) for bp in (buildpacks or DEFAULT_BUILDPACKS)],
        "extensions": None,
        "stack": {"runImage": _run_image_entry(run_image, run_mirrors)},
        "lifecycle": {
            "version": lifecycle_version,
            "api": {"buildpack": "0.2", "platform": "0.3"},
            "apis": {
                "buildpack": {"deprecated": [], "supported": _BUILDPACK_APIS},
                "platform": {"deprecated": [], "supported": _PLATFORM_APIS},
            },
        },
        "createdBy": {"name": "Pack CLI", "version": "0.40.5"},
    }
    if not legacy_stack:
        metadata["images"] = [_run_image_entry(run_image, run_mirrors)]
    return json.dumps(metadata)


def _order(buildpacks: Sequence[Mapping[str, str]]) -> str:
    group = [{"id": bp["id"], "version": bp.get("version", "")} for bp in buildpacks]
    return json.dumps([{"group": group}])


def builder_labels(
    run_image: str,
    run_mirrors: list[str] | None = None,
    lifecycle_version: str = "0.21.0",
    buildpacks: Sequence[Mapping[str, str]] | None = None,
    legacy_stack: bool = False,
    stack_id: str = DEFAULT_STACK_ID,
    order_extensions: Sequence[Mapping[str, str]] | None = None,
) -> dict[str, str]:
    """All labels of a builder image; ``order_extensions`` makes it carry extensions."""
    buildpacks = buildpacks or DEFAULT_BUILDPACKS
    labels = {
        "io.buildpacks.builder.metadata": builder_metadata(
            run_image, run_mirrors, lifecycle_version, buildpacks, legacy_stack
        ),
        "io.buildpacks.stack.id": stack_id,
        "io.buildpacks.buildpack.order": _order(buildpacks),
    }
    if order_extensions:
        labels["io.buildpacks.buildpack.order-extensions"] = _order(order_extensions)
    return labels


def package_labels(buildpack_id: str, version: str) -> dict[str, str]:
    """Labels of a buildpack package image (``pack buildpack package`` output)."""
    layer = {
        "api": "0.10",
        "stacks": [{"id": "*"}],
        "layerDiffID": f"sha256:{hashlib.sha256(buildpack_id.encode()).hexdigest()}",
        "name": buildpack_id,
    }
    return {
        "io.buildpacks.buildpackage.metadata": json.dumps(
            {"id": buildpack_id, "version": version, "stacks": [{"id": "*"}]}
        ),
        "io.buildpacks.buildpack.layers": json.dumps({buildpack_id: {version: layer}}),
    }


def run_image_labels(stack_id: str = DEFAULT_STACK_ID) -> dict[str, str]:
    return {"io.buildpacks.stack.id": stack_id}


def lifecycle_labels(version: str = "0.21.0") -> dict[str, str]:
    """Labels of a ``buildpacksio/lifecycle`` image (pack reads only the apis one)."""
    apis = {
        "buildpack": {"deprecated": [], "supported": _BUILDPACK_APIS},
        "platform": {"deprecated": [], "supported": _PLATFORM_APIS},
    }
    return {
        "io.buildpacks.lifecycle.version": version,
        "io.buildpacks.lifecycle.apis": json.dumps(apis),
    }


def publish_builder(registry: Registry, name: str, run_image: str, **options: Any) -> str:
    """Publish a real-shaped builder; ``options`` go to :func:`builder_labels`."""
    labels = builder_labels(run_image, **options)
    return publish_image(None, registry, name, labels=labels, env=BUILDER_ENV)
