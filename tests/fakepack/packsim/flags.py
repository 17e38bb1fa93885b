"""Command-line parsing exactly as cobra v1.10 / pflag v1.0 do it for pack.

Interspersed flags and positionals, ``--`` ending flags, ``--name=value`` and
``--name value``, short clusters (``-qB x``, ``-Bx``, ``-B=x``), bool flags taking a value
only through ``=``, StringSlice flags split as CSV, StringArray flags not split.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field


class Kind(enum.Enum):
    BOOL = "bool"
    STRING = "string"
    INT = "int"
    SLICE = "stringSlice"  # values are CSV-split and appended
    ARRAY = "stringArray"  # one value per occurrence


@dataclass(frozen=True)
class Flag:
    name: str
    kind: Kind
    short: str = ""
    help: str = ""
    default: str | bool | int | tuple[str, ...] = ""

    @property
    def display(self) -> str:
        """How pflag names the flag in errors: ``-b, --buildpack`` or ``--publish``."""
        return f"-{self.short}, --{self.name}" if self.short else f"--{self.name}"


class FlagError(Exception):
    """A parse error, worded as pflag words it."""


Value = str | bool | int | list[str]


@dataclass
class Parsed:
    """Flag values (defaults included), which flags were set, and the positionals."""

    values: dict[str, Value]
    changed: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)

    def string(self, name: str) -> str:
        value = self.values[name]
        assert isinstance(value, str)
        return value

    def flag(self, name: str) -> bool:
        return self.values[name] is True

    def integer(self, name: str) -> int:
        value = self.values[name]
        assert isinstance(value, int) and not isinstance(value, bool)
        return value

    def strings(self, name: str) -> list[str]:
        value = self.values[name]
        assert isinstance(value, list)
        return value

    def was_set(self, name: str) -> bool:
        return name in self.changed


class FlagSet:
    def __init__(self, flags: Sequence[Flag]) -> None:
        self.flags = tuple(flags)
        self.by_name = {flag.name: flag for flag in flags}
        self.by_short = {flag.short: flag for flag in flags if flag.short}

    def parse(self, argv: Sequence[str]) -> Parsed:
        parsed = Parsed(values={flag.name: _default(flag) for flag in self.flags})
        rest = list(argv)
        while rest:
            arg = rest.pop(0)
            if len(arg) < 2 or arg[0] != "-":
                parsed.args.append(arg)
            elif arg == "--":
                parsed.args += rest
                break
            elif arg.startswith("--"):
                rest = self._long(arg, rest, parsed)
            else:
                rest = self._short(arg, rest, parsed)
        return parsed

    def _long(self, arg: str, rest: list[str], parsed: Parsed) -> list[str]:
        body = arg[2:]
        if body[0] in "-=":
            raise FlagError(f"bad flag syntax: {arg}")
        name, has_value, value = body.partition("=")
        flag = self.by_name.get(name)
        if flag is None:
            raise FlagError(f"unknown flag: --{name}")
        if not has_value:
            if flag.kind is Kind.BOOL:
                value = "true"
            elif rest:
                value, rest = rest[0], rest[1:]
            else:
                raise FlagError(f"flag needs an argument: {arg}")
        _set(parsed, flag, value)
        return rest

    def _short(self, arg: str, rest: list[str], parsed: Parsed) -> list[str]:
        shorthands = arg[1:]
        while shorthands:
            shorthands, rest = self._one_short(shorthands, rest, parsed)
        return rest

    def _one_short(self, shorthands: str, rest: list[str], parsed: Parsed) -> tuple[str, list[str]]:
        char = shorthands[0]
        flag = self.by_short.get(char)
        if flag is None:
            raise FlagError(f"unknown shorthand flag: {_go_char(char)} in -{shorthands}")
        if len(shorthands) > 2 and shorthands[1] == "=":
            value, remaining = shorthands[2:], ""
        elif flag.kind is Kind.BOOL:
            value, remaining = "true", shorthands[1:]
        elif len(shorthands) > 1:
            value, remaining = shorthands[1:], ""
        elif rest:
            value, remaining, rest = rest[0], "", rest[1:]
        else:
            raise FlagError(f"flag needs an argument: {_go_char(char)} in -{shorthands}")
        _set(parsed, flag, value)
        return remaining, rest


def _default(flag: Flag) -> Value:
    if isinstance(flag.default, tuple):
        return list(flag.default)
    if flag.kind in (Kind.SLICE, Kind.ARRAY):
        return []
    if flag.kind is Kind.BOOL:
        return bool(flag.default)
    if flag.kind is Kind.INT:
        return int(flag.default or 0)
    return flag.default


def _go_char(char: str) -> str:
    """Go's %q of a byte: 'x', with ' and \\ escaped."""
    escaped = char.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _set(parsed: Parsed, flag: Flag, raw: str) -> None:
    try:
        value = _convert(flag, raw)
    except ValueError as error:
        raise FlagError(f'invalid argument "{raw}" for "{flag.display}" flag: {error}') from None
    first = flag.name not in parsed.changed
    if flag.kind in (Kind.SLICE, Kind.ARRAY):
        # The first occurrence replaces the default; later ones append.
        assert isinstance(value, list)
        previous = [] if first else parsed.strings(flag.name)
        value = previous + value
    parsed.values[flag.name] = value
    if first:
        parsed.changed.append(flag.name)


def _convert(flag: Flag, raw: str) -> Value:
    if flag.kind is Kind.BOOL:
        return _parse_bool(raw)
    if flag.kind is Kind.INT:
        return _parse_int(raw)
    if flag.kind is Kind.SLICE:
        return read_csv(raw)
    if flag.kind is Kind.ARRAY:
        return [raw]
    return raw


_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def _parse_bool(raw: str) -> bool:
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f'strconv.ParseBool: parsing "{raw}": invalid syntax')


_GO_INT = re.compile(r"[+-]?(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]*|0[bB][01_]+|[1-9][0-9_]*)")


def _parse_int(raw: str) -> int:
    """strconv.ParseInt(raw, 0, 64), the way pflag's int flags read values."""
    if not _GO_INT.fullmatch(raw):
        raise ValueError(f'strconv.ParseInt: parsing "{raw}": invalid syntax')
    body = raw.lstrip("+-")
    if len(body) > 1 and body[0] == "0" and body[1].isdigit():
        body = "0o" + body[1:]  # Go reads a leading 0 as octal
    value = int(body, 0) * (-1 if raw.startswith("-") else 1)
    if not -(2**63) <= value < 2**63:
        raise ValueError(f'strconv.ParseInt: parsing "{raw}": value out of range')
    return value


def read_csv(raw: str) -> list[str]:
    """One record of Go's encoding/csv with default settings, as pflag's StringSlice."""
    if raw == "":
        return []
    fields: list[str] = []
    position = 0
    while True:
        value, position = _csv_field(raw, position)
        fields.append(value)
        if position >= len(raw) or raw[position] == "\n":
            return fields
        position += 1  # the comma


def _csv_field(raw: str, start: int) -> tuple[str, int]:
    if start < len(raw) and raw[start] == '"':
        return _quoted_field(raw, start)
    end = start
    while end < len(raw) and raw[end] not in ",\n":
        if raw[end] == '"':
            raise ValueError(f'parse error on line 1, column {end + 1}: bare " in non-quoted-field')
        end += 1
    return raw[start:end], end


def _quoted_field(raw: str, start: int) -> tuple[str, int]:
    value = []
    position = start + 1
    while position < len(raw):
        char = raw[position]
        if char != '"':
            value.append(char)
            position += 1
        elif raw[position + 1 : position + 2] == '"':
            value.append('"')
            position += 2
        elif position + 1 == len(raw) or raw[position + 1] in ",\n":
            return "".join(value), position + 1
        else:
            column = position + 2
            raise ValueError(
                f'parse error on line 1, column {column}: extraneous or missing " in quoted-field'
            )
    raise ValueError(f'parse error on line 1, column {len(raw) + 1}: extraneous or missing " in quoted-field')
