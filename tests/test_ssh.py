"""
DOCKER_HOST=ssh://… as pack and the docker CLI support it: ppack reaches the daemon
through the system ``ssh`` running ``docker system dial-stdio``. A stand-in ``ssh`` on
PATH records its arguments and bridges to the private daemon's socket, so both the
fresh-path checks and the pulls really travel through it.
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from conftest import Workspace
from support.engine import Dockerd, Registry, publish_builder, publish_image, run_image_labels


BUILDER = "remote/builder:1"
RUN = "remote/run:1"

FAKE_SSH = """#!{python}
import json, os, socket, sys, threading

with open(os.environ["FAKE_SSH_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
daemon = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
daemon.connect(os.environ["FAKE_SSH_SOCKET"])

def upstream():
    while data := os.read(0, 65536):
        daemon.sendall(data)
    daemon.shutdown(socket.SHUT_WR)

threading.Thread(target=upstream, daemon=True).start()
while data := daemon.recv(65536):
    os.write(1, data)
"""

RECORDING_PACK = '#!/bin/sh\nprintf "%s\\n" "$@" > "$PACK_ARGV"\n'


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def over_ssh(engine_workspace: Workspace, dockerd: Dockerd, registry: Registry) -> Workspace:
    publish_builder(registry, BUILDER, RUN)
    publish_image(None, registry, RUN, labels=run_image_labels())
    ws = engine_workspace
    bin_dir = ws.root / "bin"
    bin_dir.mkdir()
    _executable(bin_dir / "ssh", FAKE_SSH.format(python=sys.executable))
    _executable(bin_dir / "pack", RECORDING_PACK)
    ws.env.update(
        {
            "PATH": f"{bin_dir}:{ws.env['PATH']}",
            "DOCKER_HOST": "ssh://builder@ci-host:2222",
            "FAKE_SSH_LOG": str(ws.root / "ssh.log"),
            "FAKE_SSH_SOCKET": dockerd.host.removeprefix("unix://"),
            "PPACK_PACK": str(bin_dir / "pack"),
            "PACK_ARGV": str(ws.root / "pack-argv"),
        }
    )
    return ws


def test_builds_against_a_daemon_over_ssh(over_ssh: Workspace, dockerd: Dockerd) -> None:
    ws = over_ssh
    cold = ws.run("build", "app", "-B", BUILDER, "--trust-builder")
    assert cold.returncode == 0, cold.stderr
    assert f"Pulled {RUN} (" in cold.stderr
    assert dockerd.image_exists(RUN)  # pulled into the daemon at the far end of ssh
    sessions = [json.loads(line) for line in (ws.root / "ssh.log").read_text().splitlines()]
    assert sessions
    assert all(
        s == ["-l", "builder", "-p", "2222", "--", "ci-host", "docker system dial-stdio"] for s in sessions
    )
    assert (ws.root / "pack-argv").read_text().splitlines()[:3] == ["build", "--pull-policy", "never"]

    fresh = ws.run("build", "app", "-B", BUILDER, "--trust-builder")
    assert fresh.returncode == 0, fresh.stderr
    assert "2 images fresh (daily); nothing to pull" in fresh.stderr


def test_without_paramiko_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import docker

    from ppack.daemon import DaemonAddress
    from ppack.messages import PpackError
    from ppack.puller import api_client

    def no_ssh_support(**kwargs: object) -> None:
        assert kwargs["use_ssh_client"] is True, kwargs
        raise docker.errors.DockerException("Install paramiko package to enable ssh:// support")

    monkeypatch.setattr(docker, "APIClient", no_ssh_support)
    with pytest.raises(PpackError) as error:
        api_client(DaemonAddress("ssh://builder@ci-host", "DOCKER_HOST"))
    assert error.value.message == (
        "DOCKER_HOST ssh://builder@ci-host needs docker-py's ssh support, which is not installed: "
        "pip install 'ppack[ssh]' (or pipx inject ppack paramiko)"
    )
