"""
Scan pack's argv with pack's own flag table (cobra/pflag rules), never with click.

click drops ``--`` and cannot know which unknown flags take a value; pflag's
rules are simple enough to follow exactly: a value-taking flag consumes the
next element even when it starts with ``-``, ``--`` ends flags, short flags
cluster (``-qB builder``, ``-Bbuilder``, ``-B=builder``).
"""

from __future__ import annotations

import csv
import enum
from dataclasses import dataclass, field


class Kind(enum.Enum):
    BOOL = "bool"
    STRING = "string"  # last value wins
    SLICE = "slice"  # repeated, and each value split on commas (CSV rules)
    ARRAY = "array"  # repeated, no splitting


@dataclass(frozen=True)
class Flag:
    name: str
    kind: Kind
    short: str = ""


def _flags(*flags: Flag) -> dict[str, Flag]:
    return {flag.name: flag for flag in flags}


# pack v0.40.5 cmd/cmd.go: persistent flags, valid before or after the command.
GLOBAL_FLAGS = _flags(
    Flag("no-color", Kind.BOOL),
    Flag("force-color", Kind.BOOL),
    Flag("timestamps", Kind.BOOL),
    Flag("quiet", Kind.BOOL, "q"),
    Flag("verbose", Kind.BOOL, "v"),
    Flag("help", Kind.BOOL, "h"),
)

# pack v0.40.5 internal/commands/build.go:256-310.
BUILD_FLAGS = _flags(
    Flag("path", Kind.STRING, "p"),
    Flag("buildpack", Kind.SLICE, "b"),
    Flag("extension", Kind.SLICE),
    Flag("insecure-registry", Kind.ARRAY),
    Flag("builder", Kind.STRING, "B"),
    Flag("cache", Kind.ARRAY),
    Flag("cache-image", Kind.STRING),
    Flag("clear-cache", Kind.BOOL),
    Flag("creation-time", Kind.STRING),
    Flag("descriptor", Kind.STRING, "d"),
    Flag("default-process", Kind.STRING, "D"),
    Flag("disable-system-buildpacks", Kind.BOOL),
    Flag("env", Kind.ARRAY, "e"),
    Flag("env-file", Kind.ARRAY),
    Flag("network", Kind.STRING),
    Flag("pre-buildpack", Kind.ARRAY),
    Flag("post-buildpack", Kind.ARRAY),
    Flag("publish", Kind.BOOL),
    Flag("docker-host", Kind.STRING),
    Flag("lifecycle-image", Kind.STRING),
    Flag("platform", Kind.STRING),
    Flag("pull-policy", Kind.STRING),
    Flag("exec-env", Kind.STRING),
    Flag("buildpack-registry", Kind.STRING, "r"),
    Flag("run-image", Kind.STRING),
    Flag("tag", Kind.SLICE, "t"),
    Flag("trust-builder", Kind.BOOL),
    Flag("trust-extra-buildpacks", Kind.BOOL),
    Flag("volume", Kind.ARRAY),
    Flag("workspace", Kind.STRING),
    Flag("gid", Kind.STRING),
    Flag("uid", Kind.STRING),
    Flag("previous-image", Kind.STRING),
    Flag("sbom-output-dir", Kind.STRING),
    Flag("report-output-dir", Kind.STRING),
    Flag("interactive", Kind.BOOL),
    Flag("sparse", Kind.BOOL),
    Flag("userns-host", Kind.BOOL),
    # ppack's own, removed before pack sees the argv.
    Flag("dry-run", Kind.BOOL),
)

PPACK_ONLY_FLAGS = frozenset({"dry-run"})

_TRUE = {"1", "t", "T", "true", "TRUE", "True"}
_FALSE = {"0", "f", "F", "false", "FALSE", "False"}


@dataclass
class Occurrence:
    """One flag as written: its argv positions, so ppack can remove it exactly."""

    flag: Flag
    value: str
    positions: tuple[int, ...]


@dataclass
class Scan:
    """What pack would parse from an argv; ``problem`` set means ppack must not guess."""

    argv: list[str]
    command: list[str] = field(default_factory=list)
    command_index: int | None = None
    positionals: list[str] = field(default_factory=list)
    occurrences: list[Occurrence] = field(default_factory=list)
    problem: str = ""

    def last(self, name: str) -> str | None:
        """A string flag's value: the last occurrence wins, as in pflag."""
        values = [o.value for o in self.occurrences if o.flag.name == name]
        return values[-1] if values else None

    def given(self, name: str) -> bool:
        return any(o.flag.name == name for o in self.occurrences)

    def enabled(self, name: str) -> bool:
        value = self.last(name)
        return value is not None and value in _TRUE

    def values(self, name: str) -> list[str]:
        """All values of a repeated flag, comma-split for StringSlice flags."""
        out: list[str] = []
        for occurrence in self.occurrences:
            if occurrence.flag.name != name:
                continue
            if occurrence.flag.kind is Kind.SLICE:
                out.extend(_split_csv(occurrence.value))
            else:
                out.append(occurrence.value)
        return out


def _split_csv(value: str) -> list[str]:
    if not value:
        return []
    try:
        return next(csv.reader([value], skipinitialspace=False))
    except (csv.Error, StopIteration):
        return [value]


def scan(argv: list[str]) -> Scan:
    """Find the command, then scan with its flags; stops at the first thing pack would reject."""
    result = Scan(argv=list(argv))
    flags = dict(GLOBAL_FLAGS)
    index = 0
    while index < len(argv) and not result.problem:
        token = argv[index]
        if token == "--":
            result.positionals.extend(argv[index + 1 :])
            break
        if token.startswith("-") and token != "-":
            index = _scan_flag(result, argv, index, flags)
            continue
        if result.command_index is None:
            result.command = [token]
            result.command_index = index
            if token == "build":
                flags = {**GLOBAL_FLAGS, **BUILD_FLAGS}
        else:
            result.positionals.append(token)
        index += 1
    return result


def _scan_flag(result: Scan, argv: list[str], index: int, flags: dict[str, Flag]) -> int:
    token = argv[index]
    if token.startswith("--"):
        return _scan_long(result, argv, index, flags)
    return _scan_short(result, argv, index, flags)


def _scan_long(result: Scan, argv: list[str], index: int, flags: dict[str, Flag]) -> int:
    name, has_value, value = argv[index][2:].partition("=")
    flag = flags.get(name)
    if flag is None and name == "version" and result.command_index is None:
        flag = Flag("version", Kind.BOOL)
    if flag is None:
        result.problem = f"unknown flag: --{name}"
        return index + 1
    if flag.kind is Kind.BOOL:
        return _record_bool(result, flag, value if has_value else "true", (index,))
    if has_value:
        result.occurrences.append(Occurrence(flag, value, (index,)))
        return index + 1
    if index + 1 >= len(argv):
        result.problem = f"flag needs an argument: --{name}"
        return index + 1
    result.occurrences.append(Occurrence(flag, argv[index + 1], (index, index + 1)))
    return index + 2


def _scan_short(result: Scan, argv: list[str], index: int, flags: dict[str, Flag]) -> int:
    by_short = {flag.short: flag for flag in flags.values() if flag.short}
    cluster = argv[index][1:]
    position = 0
    while position < len(cluster):
        flag = by_short.get(cluster[position])
        if flag is None:
            result.problem = f"unknown shorthand flag: '{cluster[position]}' in {argv[index]}"
            return index + 1
        rest = cluster[position + 1 :]
        if flag.kind is Kind.BOOL:
            if rest.startswith("="):
                return _record_bool(result, flag, rest[1:], (index,))
            _record_bool(result, flag, "true", (index,))
            position += 1
            continue
        if rest:
            value = rest[1:] if rest.startswith("=") else rest
            result.occurrences.append(Occurrence(flag, value, (index,)))
            return index + 1
        if index + 1 >= len(argv):
            result.problem = f"flag needs an argument: '{flag.short}' in -{flag.short}"
            return index + 1
        result.occurrences.append(Occurrence(flag, argv[index + 1], (index, index + 1)))
        return index + 2
    return index + 1


def _record_bool(result: Scan, flag: Flag, value: str, positions: tuple[int, ...]) -> int:
    if value not in _TRUE and value not in _FALSE:
        result.problem = f'invalid argument "{value}" for "--{flag.name}" flag'
    result.occurrences.append(Occurrence(flag, value, positions))
    return positions[-1] + 1


def rewrite_for_pack(result: Scan, policy: str = "never") -> list[str]:
    """
    The user's argv with every ``--pull-policy`` and ppack-only flag removed
    and ``--pull-policy <policy>`` inserted right after ``build``.

    A ppack-only bool inside a short cluster cannot occur (they have no shorthand),
    so removing whole positions is exact.
    """
    assert result.command_index is not None  # noqa: S101 - only called for `build`
    drop: set[int] = set()
    for occurrence in result.occurrences:
        if occurrence.flag.name == "pull-policy" or occurrence.flag.name in PPACK_ONLY_FLAGS:
            drop.update(occurrence.positions)
    out: list[str] = []
    for index, token in enumerate(result.argv):
        if index not in drop:
            out.append(token)
        if index == result.command_index:
            out.extend(["--pull-policy", policy])
    return out
