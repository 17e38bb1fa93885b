"""pack's environment: ``$PACK_HOME/config.toml`` and which Docker daemon to use."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from packsim.output import PackError


DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


@dataclass
class PackConfig:
    path: Path
    default_builder: str = ""
    default_registry: str = ""
    pull_policy: str = ""
    experimental: bool = False
    lifecycle_image: str = ""
    run_image_mirrors: dict[str, list[str]] = field(default_factory=dict)
    trusted_builders: list[str] = field(default_factory=list)
    registries: list[str] = field(default_factory=list)
    # None when the table is absent: pack then skips mirror translation altogether.
    registry_mirrors: dict[str, str] | None = None


def pack_home() -> Path:
    home = os.environ.get("PACK_HOME", "")
    return Path(home) if home else Path.home() / ".pack"


def read_config() -> PackConfig:
    path = pack_home() / "config.toml"
    try:
        data = tomllib.loads(path.read_text())
        return _from_toml(path, data)
    except FileNotFoundError:
        return PackConfig(path)
    except (OSError, tomllib.TOMLDecodeError, TypeError) as error:
        raise PackError(
            f"reading pack config: failed to read config file at path {path}: toml: {error}"
        ) from error


def _string(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise TypeError(
            f"incompatible types: TOML value has type {type(value).__name__}; "
            f"destination has type string ({key})"
        )
    return value


def _tables(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise TypeError(f"incompatible types for {key}: expected an array of tables")
    return value


def _from_toml(path: Path, data: dict[str, Any]) -> PackConfig:
    mirrors = data.get("registry-mirrors")
    if mirrors is not None and not isinstance(mirrors, dict):
        raise TypeError("incompatible types for registry-mirrors: expected a table")
    return PackConfig(
        path=path,
        default_builder=_string(data, "default-builder-image"),
        default_registry=_string(data, "default-registry"),
        pull_policy=_string(data, "pull-policy"),
        experimental=bool(data.get("experimental", False)),
        lifecycle_image=_string(data, "lifecycle-image"),
        run_image_mirrors={
            _string(entry, "image"): [str(m) for m in entry.get("mirrors", [])]
            for entry in _tables(data, "run-images")
        },
        trusted_builders=[_string(entry, "name") for entry in _tables(data, "trusted-builders")],
        registries=[_string(entry, "name") for entry in _tables(data, "registries")],
        registry_mirrors=None if mirrors is None else {str(k): str(v) for k, v in mirrors.items()},
    )


def docker_host() -> str:
    """``DOCKER_HOST``, else the current docker context's endpoint (not DOCKER_CONTEXT)."""
    host = os.environ.get("DOCKER_HOST", "")
    if host:
        return host
    config_dir = Path(os.environ.get("DOCKER_CONFIG", "") or Path.home() / ".docker")
    context = _current_context(config_dir)
    if context in ("", "default"):
        return DEFAULT_DOCKER_HOST
    digest = hashlib.sha256(context.encode()).hexdigest()
    meta_path = config_dir / "contexts" / "meta" / digest / "meta.json"
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as error:
        raise PackError(
            f"reading metadata for current context '{context}' at '{config_dir}': {error}"
        ) from error
    endpoints = {k.lower(): v for k, v in (meta.get("Endpoints") or {}).items()}
    endpoint = endpoints.get("docker")
    if not isinstance(endpoint, dict):
        return DEFAULT_DOCKER_HOST
    return str(endpoint.get("Host", "")) or DEFAULT_DOCKER_HOST


def _current_context(config_dir: Path) -> str:
    try:
        text = (config_dir / "config.json").read_text()
    except FileNotFoundError:
        return ""
    except OSError as error:
        raise PackError(f"reading configuration file at '{config_dir}': {error}") from error
    try:
        return str(json.loads(text).get("currentContext", "")) if text.strip() else ""
    except ValueError as error:
        raise PackError(f"reading configuration file at '{config_dir}': {error}") from error
