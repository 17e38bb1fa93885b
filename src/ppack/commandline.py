"""
Scan pack's argv with pack's own flag table (cobra/pflag rules), never with click.

click drops ``--`` and cannot know which unknown flags take a value; pflag's
rules are simple enough to follow exactly: a value-taking flag consumes the
next element even when it starts with ``-``, ``--`` ends flags, short flags
cluster (``-qB builder``, ``-Bbuilder``, ``-B=builder``).
"""

from __future__ import annotations

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
                try:
                    out.extend(_split_csv(occurrence.value))
                except ValueError:  # scan() reported it as the problem
                    out.append(occurrence.value)
            else:
                out.append(occurrence.value)
        return out


def _split_csv(value: str) -> list[str]:
    """
    One StringSlice value as pflag splits it: Go's ``csv.Reader.Read``, first record only.

    Quotes are respected (``"a,b",c`` is two values); a stray quote is Go's error,
    raised as ValueError, and pack rejects the flag with it.
    """
    if not value:
        return []
    fields: list[str] = []
    index, end = 0, len(value)
    while True:
        if value.startswith('"', index):
            parts: list[str] = []
            index += 1
            while True:
                close = value.find('"', index)
                if close < 0:
                    raise ValueError('extraneous or missing " in quoted-field')
                parts.append(value[index:close])
                index = close + 1
                if not value.startswith('"', index):
                    break
                parts.append('"')
                index += 1
            if index < end and value[index] not in ",\n":
                raise ValueError('extraneous or missing " in quoted-field')
            fields.append("".join(parts))
        else:
            stop = min((i for i in (value.find(",", index), value.find("\n", index)) if i >= 0), default=end)
            if '"' in value[index:stop]:
                raise ValueError('bare " in non-quoted-field')
            fields.append(value[index:stop])
            index = stop
        if index >= end or value[index] == "\n":
            return fields
        index += 1


# pack's root command: its persistent flags plus the root-only --version.
ROOT_FLAGS = {**GLOBAL_FLAGS, **_flags(Flag("version", Kind.BOOL))}


def find_command(argv: list[str]) -> int | None:
    """
    The index of pack's subcommand, as cobra's ``Find`` picks it (stripFlags and
    argsMinusFirstX): the first argument that is neither a flag nor the value of one.

    Only the root's flags are known there, so ``--flag``/``-f`` without ``=`` that is
    not a root bool is taken to consume the next argument: ``pack -B x build app`` is a
    build with builder ``x``, while ``pack --publish build app`` names the command ``app``.
    """
    shorts = {flag.short for flag in ROOT_FLAGS.values() if flag.short and flag.kind is Kind.BOOL}
    index = 0
    while index < len(argv):
        token = argv[index]
        if token == "--":
            return None
        if token.startswith("--") and "=" not in token:
            known = ROOT_FLAGS.get(token[2:])
            index += 1 if known is not None and known.kind is Kind.BOOL else 2
            continue
        if token.startswith("-") and "=" not in token and len(token) == 2 and token[1] not in shorts:
            index += 2
            continue
        if token and not token.startswith("-"):
            return index
        index += 1
    return None


def scan(argv: list[str]) -> Scan:
    """
    Find the command as cobra does, then scan the rest with its flags (pflag, interspersed);
    stops at the first thing pack would reject.
    """
    result = Scan(argv=list(argv))
    command_index = find_command(result.argv)
    if command_index is None:
        flags = ROOT_FLAGS
    else:
        result.command = [argv[command_index]]
        result.command_index = command_index
        flags = {**GLOBAL_FLAGS, **BUILD_FLAGS} if argv[command_index] == "build" else GLOBAL_FLAGS
    # cobra hands the command its argv without the command word; positions map back to argv.
    origin = [i for i in range(len(argv)) if i != command_index]
    tokens = [argv[i] for i in origin]
    index = 0
    while index < len(tokens) and not result.problem:
        token = tokens[index]
        if token == "--":
            result.positionals.extend(tokens[index + 1 :])
            break
        if token.startswith("-") and token != "-":
            index = _scan_flag(result, tokens, index, flags)
            continue
        result.positionals.append(token)
        index += 1
    for occurrence in result.occurrences:
        occurrence.positions = tuple(origin[p] for p in occurrence.positions)
    # cobra: flag errors, then --help, then the command's Args (build: cobra.ExactArgs(1)).
    wants_args = result.command == ["build"] and not result.problem and not result.enabled("help")
    if wants_args and len(result.positionals) != 1:
        result.problem = f"accepts 1 arg(s), received {len(result.positionals)}"
    return result


def _scan_flag(result: Scan, argv: list[str], index: int, flags: dict[str, Flag]) -> int:
    token = argv[index]
    if token.startswith("--"):
        return _scan_long(result, argv, index, flags)
    return _scan_short(result, argv, index, flags)


def _scan_long(result: Scan, argv: list[str], index: int, flags: dict[str, Flag]) -> int:
    name, has_value, value = argv[index][2:].partition("=")
    flag = flags.get(name)
    if flag is None:
        result.problem = f"unknown flag: --{name}"
        return index + 1
    if flag.kind is Kind.BOOL:
        return _record_bool(result, flag, value if has_value else "true", (index,))
    if has_value:
        return _record(result, flag, value, (index,))
    if index + 1 >= len(argv):
        result.problem = f"flag needs an argument: --{name}"
        return index + 1
    return _record(result, flag, argv[index + 1], (index, index + 1))


def _scan_short(result: Scan, argv: list[str], index: int, flags: dict[str, Flag]) -> int:
    by_short = {flag.short: flag for flag in flags.values() if flag.short}
    cluster = argv[index][1:]
    position = 0
    while position < len(cluster):
        flag = by_short.get(cluster[position])
        if flag is None:
            # pflag names the rest of the cluster from the bad letter on.
            result.problem = f"unknown shorthand flag: '{cluster[position]}' in -{cluster[position:]}"
            return index + 1
        rest = cluster[position + 1 :]
        if flag.kind is Kind.BOOL:
            if len(rest) > 1 and rest.startswith("="):  # pflag: ``-q=`` is -q, then a flag "="
                return _record_bool(result, flag, rest[1:], (index,))
            _record_bool(result, flag, "true", (index,))
            position += 1
            continue
        if rest:
            # pflag: ``-B=x`` is x, but ``-B=`` is the value "=" (the "-f=" form needs a value).
            value = rest[1:] if len(rest) > 1 and rest.startswith("=") else rest
            return _record(result, flag, value, (index,))
        if index + 1 >= len(argv):
            result.problem = f"flag needs an argument: '{flag.short}' in -{flag.short}"
            return index + 1
        return _record(result, flag, argv[index + 1], (index, index + 1))
    return index + 1


def _record(result: Scan, flag: Flag, value: str, positions: tuple[int, ...]) -> int:
    if flag.kind is Kind.SLICE:
        try:
            _split_csv(value)
        except ValueError as error:
            shown = f"-{flag.short}, --{flag.name}" if flag.short else f"--{flag.name}"
            result.problem = f'invalid argument "{value}" for "{shown}" flag: {error}'
    result.occurrences.append(Occurrence(flag, value, positions))
    return positions[-1] + 1


def _record_bool(result: Scan, flag: Flag, value: str, positions: tuple[int, ...]) -> int:
    if value not in _TRUE and value not in _FALSE:
        result.problem = f'invalid argument "{value}" for "--{flag.name}" flag'
    result.occurrences.append(Occurrence(flag, value, positions))
    return positions[-1] + 1


def without_ppack_flags(result: Scan) -> list[str]:
    """The user's argv as pack may see it untouched otherwise: ppack's own flags removed."""
    drop = {
        position
        for occurrence in result.occurrences
        if occurrence.flag.name in PPACK_ONLY_FLAGS
        for position in occurrence.positions
    }
    return [token for index, token in enumerate(result.argv) if index not in drop]


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
