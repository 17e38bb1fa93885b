"""Where ppack's own config file lives, without importing platformdirs on Linux."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs
import pytest

from ppack.settings import ppack_config_path


def test_ppack_config_names_the_file() -> None:
    assert ppack_config_path({"PPACK_CONFIG": "/etc/ppack.toml", "HOME": "/h"}) == Path("/etc/ppack.toml")


@pytest.mark.skipif(sys.platform != "linux", reason="the shortcut is Linux's")
@pytest.mark.parametrize("xdg", [None, "", "  ", "/xdg"])
def test_linux_path_is_what_platformdirs_says(
    xdg: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    if xdg is None:
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CONFIG_HOME", xdg)
    expected = platformdirs.user_config_path("ppack") / "config.toml"
    assert ppack_config_path(dict(os.environ)) == expected
