"""
Find the real pack and hand the process over to it.

On POSIX ppack becomes pack (``os.execv``): same PID, pack's exit status,
signals straight to pack. Windows has no exec, so pack runs as a child and
ppack exits with its code (as pipx does).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

from ppack.messages import Exit, PpackError


PACK_ENV = "PPACK_PACK"
ACTIVE_ENV = "PPACK_ACTIVE"
INSTALL_HINT = (
    "install pack (https://buildpacks.io/docs/for-platform-operators/how-to/integrate-ci/pack/) "
    f"or point {PACK_ENV} at it"
)


def _is_ppack(candidate: Path) -> bool:
    """True for ppack itself: the running script, or a console script that launches ppack."""
    try:
        real = candidate.resolve()
        if sys.argv and sys.argv[0] and real == Path(sys.argv[0]).resolve():
            return True
        if real.stat().st_size > 64 * 1024:
            return False
        head = real.read_bytes()[:4096]
    except OSError:
        return False
    return b"from ppack.__main__ import main" in head or b"ppack.__main__" in head


def _which(name: str, path: str | None) -> str | None:
    """``shutil.which`` without importing shutil (and bz2, lzma) on every start."""
    if sys.platform == "win32":  # PATHEXT and friends: leave them to shutil
        import shutil

        return shutil.which(name, path=path)
    if os.sep in name:
        candidates = [Path(name)]
    else:
        folders = (path if path is not None else os.defpath).split(os.pathsep)
        candidates = [Path(folder or ".", name) for folder in folders]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def find_pack(env: Mapping[str, str]) -> str:
    """``PPACK_PACK``, else the first ``pack`` on PATH that is not ppack."""
    override = env.get(PACK_ENV, "")
    if override:
        found = _which(override, env.get("PATH"))
        if found is None:
            raise PpackError(f"{PACK_ENV}={override} is not an executable file", Exit.PACK_NOT_FOUND)
        if _is_ppack(Path(found)):
            raise PpackError(f"{PACK_ENV}={override} is ppack itself; point it at the real pack")
        return found
    for folder in (env.get("PATH") or os.defpath).split(os.pathsep):
        found = _which("pack", folder or ".")
        if found and not _is_ppack(Path(found)):
            return found
    raise PpackError(f"pack not found on PATH: {INSTALL_HINT}", Exit.PACK_NOT_FOUND)


def hand_over(pack: str, args: Sequence[str], env: Mapping[str, str]) -> NoReturn:
    """Replace this process with ``pack args…``; nothing after this runs on POSIX."""
    child_env = {**env, ACTIVE_ENV: "1"}
    argv = [pack, *args]
    sys.stdout.flush()
    sys.stderr.flush()
    if sys.platform == "win32":
        import subprocess

        sys.exit(subprocess.run(argv, env=child_env, check=False).returncode)
    try:
        os.execve(pack, argv, child_env)
    except OSError as error:
        raise PpackError(f"cannot run {pack}: {error.strerror or error}", Exit.PACK_NOT_FOUND) from None
