"""
Everything ppack says goes through here, to stderr and in pack's voice.

stdout belongs to pack (``pack build -q`` prints the image digest there), so
ppack never writes to it except for its own commands' output.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO


class Exit(enum.IntEnum):
    """Exit codes, following click and pack where they define one."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    PACK_NOT_FOUND = 127
    INTERRUPTED = 130


class PpackError(Exception):
    """A failure the user can act on: printed as one ``ERROR:`` line, no traceback."""

    def __init__(self, message: str, exit_code: int = Exit.FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class UsageError(PpackError):
    """Bad input on the command line, in the environment or in a config file."""

    def __init__(self, message: str) -> None:
        super().__init__(message, Exit.USAGE)


class Verbosity(enum.IntEnum):
    QUIET = 0
    NORMAL = 1
    VERBOSE = 2


_YELLOW = "\x1b[33m"
_RED = "\x1b[31m"
_BOLD = "\x1b[1m"
_RESET = "\x1b[0m"


def wants_color(stream: TextIO, *, no_color: bool, force_color: bool) -> bool:
    """pack's rule (--force-color beats everything), plus the NO_COLOR convention."""
    if force_color:
        return True
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return _isatty(stream) and os.environ.get("TERM") != "dumb"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass
class Reporter:
    """Writes ppack's diagnostics; one instance per run, shared by every step."""

    verbosity: Verbosity = Verbosity.NORMAL
    color: bool = False
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    timestamps: bool = False  # pack's --timestamps: every line starts with the local time
    clock: Callable[[], datetime] = datetime.now
    # While live progress is on screen, whole lines go through it so they print above the block.
    overlay: Callable[[str], None] | None = None
    _warned: set[str] = field(default_factory=set)

    @property
    def interactive(self) -> bool:
        """Live, self-rewriting progress only makes sense on a terminal."""
        return _isatty(self.stream) and os.environ.get("TERM") != "dumb"

    def info(self, text: str) -> None:
        if self.verbosity >= Verbosity.NORMAL:
            self._write(text)

    def debug(self, text: str) -> None:
        if self.verbosity >= Verbosity.VERBOSE:
            self._write(text)

    def warn(self, text: str) -> None:
        """
        Warnings print once per run, even when several images hit the same fault, and
        under ``-q`` too: pack's quiet mode is its warn level.
        """
        if text in self._warned:
            return
        self._warned.add(text)
        self._write(self._paint("Warning:", _YELLOW) + " " + text)

    def error(self, text: str) -> None:
        self._write(self._paint("ERROR:", _RED) + " " + text)

    def bold(self, text: str) -> str:
        return self._paint(text, _BOLD)

    def raw(self, text: str) -> None:
        """Progress frames: already formatted, no newline added."""
        self.stream.write(text)
        self.stream.flush()

    def _paint(self, text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if self.color else text

    def _write(self, text: str) -> None:
        if self.timestamps:
            # pack's log handler format (Go layout "2006/01/02 15:04:05.000000").
            text = f"{self.clock().strftime('%Y/%m/%d %H:%M:%S.%f')} {text}"
        if self.overlay is not None:
            self.overlay(text + "\n")
            return
        self.stream.write(text + "\n")
        self.stream.flush()
