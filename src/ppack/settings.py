"""
Where ppack's inputs live: pack's home and config.toml, ppack's own config file,
and the environment. Read once per run; nothing here writes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ppack import _toml as tomllib
from ppack.messages import PpackError, UsageError
from ppack.policy import PolicyError, PullPolicy, parse_policy


DEFAULT_POLICY = "daily"
DEFAULT_PULL_TIMEOUT = 300.0
MAX_PULL_TIMEOUT = 86400.0
TIMEOUT_RANGE = f"a number of seconds from 1 to {MAX_PULL_TIMEOUT:.0f}"
POLICY_ENV = "PPACK_PULL_POLICY"
CONFIG_ENV = "PPACK_CONFIG"
TIMEOUT_ENV = "PPACK_PULL_TIMEOUT"
PARALLEL_ENV = "PPACK_MAX_PARALLEL"
DEFAULT_MAX_PARALLEL = 4


def pack_home(env: Mapping[str, str]) -> Path:
    """pack's rule: ``$PACK_HOME``, else ``~/.pack``."""
    if env.get("PACK_HOME"):
        return Path(env["PACK_HOME"])
    return Path.home() / ".pack"


def ppack_config_path(env: Mapping[str, str]) -> Path:
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    platform = sys.platform  # a variable: mypy would otherwise judge this for its own platform only
    if platform == "linux":
        # What platformdirs answers on Linux, without its import cost on every build.
        home = Path(env.get("HOME") or Path.home())
        base = Path((env.get("XDG_CONFIG_HOME") or "").strip() or home / ".config")
        return base / "ppack" / "config.toml"
    import platformdirs

    return platformdirs.user_config_path("ppack") / "config.toml"


@dataclass(frozen=True)
class PackConfig:
    """The keys of ``$PACK_HOME/config.toml`` that decide which images pack reads."""

    path: Path
    default_builder_image: str = ""
    pull_policy: str = ""
    lifecycle_image: str = ""
    run_image_mirrors: dict[str, list[str]] = field(default_factory=dict)
    trusted_builders: list[str] = field(default_factory=list)
    registry_mirrors: dict[str, str] = field(default_factory=dict)
    experimental: bool = False


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PpackError(f"reading {what}: failed to read config file at path {path}: {error}") from None


def load_pack_config(env: Mapping[str, str]) -> PackConfig:
    """Parse pack's config like pack does; an invalid file fails with pack's own wording."""
    path = pack_home(env) / "config.toml"
    data = _read_toml(path, "pack config")
    try:
        return PackConfig(
            path=path,
            default_builder_image=_string(data, "default-builder-image"),
            pull_policy=_string(data, "pull-policy"),
            lifecycle_image=_string(data, "lifecycle-image"),
            run_image_mirrors={
                _string(entry, "image"): _strings(entry, "mirrors") for entry in _tables(data, "run-images")
            },
            trusted_builders=[_string(entry, "name") for entry in _tables(data, "trusted-builders")],
            registry_mirrors=_registry_mirrors(_table(data, "registry-mirrors")),
            experimental=bool(data.get("experimental", False)),
        )
    except (TypeError, ValueError, AttributeError) as error:
        raise PpackError(f"reading pack config: failed to read config file at path {path}: {error}") from None


def _string(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a string")
    return value


def _strings(data: Mapping[str, Any], key: str) -> list[str]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{key} must be an array of strings")
    return value


# A registry host, an optional port and path: what pack prefixes to a repository.
_MIRROR = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]+)?(?:/[a-z0-9._/-]+)?")


def _registry_mirrors(table: Mapping[str, Any]) -> dict[str, str]:
    for registry, mirror in table.items():
        if not isinstance(mirror, str):
            raise TypeError(f"registry-mirrors.{registry} must be a string")
        if not _MIRROR.fullmatch(mirror):
            raise ValueError(
                f"registry-mirrors.{registry} = {mirror!r} is not a registry host[:port][/path] "
                "(no scheme such as http://)"
            )
    return dict(table)


def _tables(data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise TypeError(f"{key} must be an array of tables")
    return value


def _table(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise TypeError(f"{key} must be a table")
    return value


@dataclass(frozen=True)
class PpackConfig:
    path: Path
    pull_policy: str = ""
    pull_timeout: float = DEFAULT_PULL_TIMEOUT


def load_ppack_config(env: Mapping[str, str]) -> PpackConfig:
    path = ppack_config_path(env)
    data = _read_toml(path, "ppack config")
    policy = data.get("pull-policy", "")
    timeout = data.get("pull-timeout", DEFAULT_PULL_TIMEOUT)
    if not isinstance(policy, str):
        raise UsageError(f"pull-policy in {path} must be a string")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not _sane_timeout(timeout):
        raise UsageError(f"pull-timeout in {path} must be {TIMEOUT_RANGE}")
    return PpackConfig(path=path, pull_policy=policy, pull_timeout=float(timeout))


@dataclass(frozen=True)
class ChosenPolicy:
    policy: PullPolicy
    source: str


def choose_policy(
    flag_value: str | None,
    env: Mapping[str, str],
    ppack_config: PpackConfig,
    pack_config: PackConfig,
) -> ChosenPolicy:
    """First non-empty wins: flag, PPACK_PULL_POLICY, ppack config, pack config, daily."""
    candidates = (
        (flag_value or "", "--pull-policy"),
        (env.get(POLICY_ENV, ""), POLICY_ENV),
        (ppack_config.pull_policy, f"pull-policy in {ppack_config.path}"),
        (pack_config.pull_policy, f"pull-policy in {pack_config.path}"),
        (DEFAULT_POLICY, "ppack's default"),
    )
    for text, source in candidates:
        if text:
            try:
                return ChosenPolicy(parse_policy(text), source)
            except PolicyError as error:
                raise UsageError(f"{error} (from {source})") from None
    raise AssertionError("unreachable: the default policy is never empty")


def pull_timeout(env: Mapping[str, str], ppack_config: PpackConfig) -> float:
    """Seconds a pull may go without progress before ppack gives up on it."""
    text = env.get(TIMEOUT_ENV, "")
    if not text:
        return ppack_config.pull_timeout
    try:
        value = float(text) if text == text.strip() else -1.0
    except ValueError:
        value = -1.0
    if not _sane_timeout(value):
        raise UsageError(f"{TIMEOUT_ENV}={text!r} must be {TIMEOUT_RANGE}")
    return value


def _sane_timeout(seconds: float) -> bool:
    # NaN fails both comparisons; a day without a byte is a dead pull, and larger values
    # overflow the socket timeout.
    return 1 <= seconds <= MAX_PULL_TIMEOUT


def max_parallel(env: Mapping[str, str]) -> int:
    """How many pulls may run at once (1 = one after the other, as pack does)."""
    text = env.get(PARALLEL_ENV, "")
    if not text:
        return DEFAULT_MAX_PARALLEL
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 32:
        raise UsageError(f"{PARALLEL_ENV}={text!r} must be a whole number from 1 to 32")
    return int(text)
