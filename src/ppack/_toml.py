"""tomllib on 3.11+, tomli before: one import site for the whole package."""

from __future__ import annotations

import sys


if sys.version_info >= (3, 11):
    import tomllib as toml
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as toml

load = toml.load
TOMLDecodeError = toml.TOMLDecodeError

__all__ = ["TOMLDecodeError", "load"]
