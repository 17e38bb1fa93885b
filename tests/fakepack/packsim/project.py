"""project.toml (schema 0.1, 0.2, 0.3) as pack reads it for ``build``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import tomllib

from packsim.output import Log, PackError


@dataclass(frozen=True)
class ProjectBuildpack:
    id: str = ""
    version: str = ""
    uri: str = ""
    inline: str = ""
    api: str = ""


@dataclass
class Descriptor:
    builder: str = ""
    buildpacks: list[ProjectBuildpack] = field(default_factory=list)
    pre: list[ProjectBuildpack] = field(default_factory=list)
    post: list[ProjectBuildpack] = field(default_factory=list)


def find_descriptor(app_path: str, descriptor_flag: str, log: Log) -> tuple[Descriptor, str]:
    """The descriptor and its path ("" when there is none).

    Without ``--descriptor`` the file is ``<--path>/project.toml`` and may be missing;
    a ``--descriptor`` path (relative to the CWD) must exist.
    """
    path = descriptor_flag or os.path.join(app_path, "project.toml")
    if not os.path.exists(path):
        if not descriptor_flag:
            return Descriptor(), ""
        raise PackError(f"stat project descriptor: stat {path}: no such file or directory")
    return read_descriptor(path, log), path


def read_descriptor(path: str, log: Log) -> Descriptor:
    with open(path, "rb") as file:
        raw = file.read()
    try:
        data = tomllib.loads(raw.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PackError(f"parsing schema version: toml: {error}") from error
    version = _table(data, "_").get("schema-version", "")
    if not isinstance(version, str):
        raise PackError(
            f"parsing schema version: toml: incompatible types: TOML value has type "
            f"{type(version).__name__}; destination has type string"
        )
    if not version:
        log.warn("No schema version declared in project.toml, defaulting to schema version 0.1")
        version = "0.1"
    if version == "0.1":
        descriptor = _v01(data)
    elif version in ("0.2", "0.3"):
        descriptor = _v02(data)
    else:
        raise PackError(f"unknown project descriptor schema version {version}")
    _validate(data, version, descriptor)
    return descriptor


def _table(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        # BurntSushi/toml falls back to a case-insensitive key match.
        matches = [v for k, v in data.items() if k == key] or [
            v for k, v in data.items() if k.lower() == key.lower()
        ]
        data = matches[0] if matches and isinstance(matches[0], dict) else {}
    return data


def _buildpacks(entries: Any) -> list[ProjectBuildpack]:
    if not isinstance(entries, list):
        return []
    return [
        ProjectBuildpack(
            id=str(entry.get("id", "")),
            version=str(entry.get("version", "")),
            uri=str(entry.get("uri", "")),
            inline=str(_table(entry, "script").get("inline", "")),
            api=str(_table(entry, "script").get("api", "")),
        )
        for entry in entries
        if isinstance(entry, dict)
    ]


def _v01(data: dict[str, Any]) -> Descriptor:
    # In 0.1 every io.buildpacks key is unsupported and ignored.
    build = _table(data, "build")
    return Descriptor(
        builder=str(build.get("builder", "")),
        buildpacks=_buildpacks(build.get("buildpacks")),
        pre=_buildpacks(_table(build, "pre").get("group")),
        post=_buildpacks(_table(build, "post").get("group")),
    )


def _v02(data: dict[str, Any]) -> Descriptor:
    section = _table(data, "io", "buildpacks")
    return Descriptor(
        builder=str(section.get("builder", "")),
        buildpacks=_buildpacks(section.get("group")),
        pre=_buildpacks(_table(section, "pre").get("group")),
        post=_buildpacks(_table(section, "post").get("group")),
    )


def _validate(data: dict[str, Any], version: str, descriptor: Descriptor) -> None:
    build = _table(data, "build") if version == "0.1" else _table(data, "io", "buildpacks")
    if "include" in build and "exclude" in build:
        raise PackError("project.toml: cannot have both include and exclude defined")
    for bp in descriptor.buildpacks:
        if not bp.id and not bp.uri:
            raise PackError("project.toml: buildpacks must have an id or url defined")
        if bp.uri and bp.version:
            raise PackError("project.toml: buildpacks cannot have both uri and version defined")
