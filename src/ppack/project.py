"""
project.toml, read the way pack reads it (pkg/project): only what decides images.

Schema 0.1 (the default when none is declared) keeps everything under
``[build]``; 0.2 and 0.3 under ``[io.buildpacks]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ppack import _toml as tomllib
from ppack.messages import PpackError


@dataclass(frozen=True)
class ModuleEntry:
    """One ``[[…group]]`` entry; ``locator`` is what pack builds from id/version/uri."""

    locator: str
    inline: bool = False


@dataclass(frozen=True)
class Descriptor:
    path: Path | None = None
    builder: str = ""
    group: list[ModuleEntry] = field(default_factory=list)
    pre: list[ModuleEntry] = field(default_factory=list)
    post: list[ModuleEntry] = field(default_factory=list)

    @property
    def base_dir(self) -> Path:
        """Relative buildpack URIs resolve against the descriptor's folder."""
        return self.path.parent if self.path else Path()


def locate(descriptor_flag: str | None, path_flag: str | None, cwd: Path) -> tuple[Path, bool]:
    """(path, required): ``-d`` is relative to the CWD and must exist; else ``<path>/project.toml``."""
    if descriptor_flag:
        return cwd / descriptor_flag, True
    return cwd / (path_flag or ".") / "project.toml", False


def read_descriptor(path: Path, required: bool) -> Descriptor:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        if required:
            raise PpackError(f"stat project descriptor: {path}: no such file") from None
        return Descriptor()
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PpackError(f"parsing project descriptor {path}: {error}") from None
    try:
        return _from_toml(path, data)
    except (TypeError, AttributeError, ValueError) as error:
        raise PpackError(f"parsing project descriptor {path}: {error}") from None


def _from_toml(path: Path, data: dict[str, Any]) -> Descriptor:
    version = str(_dict(data.get("_", {})).get("schema-version", "0.1"))
    if version not in ("0.1", "0.2", "0.3"):
        raise ValueError(f"unknown project descriptor schema version {version}")
    if version == "0.1":
        build = _dict(data.get("build", {}))
        section = build
    else:
        section = _dict(_dict(data.get("io", {})).get("buildpacks", {}))
    builder = section.get("builder", "")
    if not isinstance(builder, str):
        raise TypeError("builder must be a string")
    return Descriptor(
        path=path,
        builder=builder,
        group=_entries(section.get("buildpacks" if version == "0.1" else "group", [])),
        pre=_entries(_group_of(section, "pre")),
        post=_entries(_group_of(section, "post")),
    )


def _group_of(section: dict[str, Any], which: str) -> Any:
    # Schema 0.1 decodes pre/post case-insensitively (no toml tag in pack).
    for key, value in section.items():
        if key.lower() == which:
            return _dict(value).get("group", [])
    return []


def _entries(raw: Any) -> list[ModuleEntry]:
    if not isinstance(raw, list):
        raise TypeError("a buildpack group must be an array of tables")
    return [_entry(_dict(item)) for item in raw]


def _entry(item: dict[str, Any]) -> ModuleEntry:
    uri, ident, version = (str(item.get(key, "")) for key in ("uri", "id", "version"))
    if not uri and not ident:
        raise ValueError("each buildpack must have an id or a uri")
    if uri and version:
        raise ValueError(f"buildpack {ident or uri}: cannot have both uri and version")
    script = _dict(item.get("script", {}))
    if not uri and script.get("inline"):
        return ModuleEntry(ident, inline=True)
    if uri:
        return ModuleEntry(uri)
    return ModuleEntry(f"{ident}@{version}" if version else ident)


def _dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected a table, found {type(value).__name__}")
    return value
