"""pack's errors and logger, as they appear on stdout/stderr.

pack logs info and warnings to stdout and errors to stderr with an ``ERROR: `` prefix.
Colour is never emitted: pack disables it when stdout is not a terminal, which is how
tests run it, so names are always quoted the uncoloured way (``'name'``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


class PackError(Exception):
    """An error pack prints as ``ERROR: <message>`` before exiting 1."""

    def __init__(self, message: str, tip: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.tip = tip


class SoftError(Exception):
    """pack's SoftError: nothing more is printed, and the exit code is 2."""


class UsageError(Exception):
    """A cobra/pflag error: ``Error: <message>`` on stderr, then the usage on stdout."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage


@contextmanager
def wrapped(prefix: str) -> Iterator[None]:
    """Like Go's ``errors.Wrap(err, prefix)`` around everything in the block."""
    try:
        yield
    except PackError as error:
        raise PackError(f"{prefix}: {error.message}", error.tip) from error


def symbol(value: str) -> str:
    return f"'{value}'"


class Log:
    """pack's logger: -q hides info, -v shows debug, --timestamps prefixes lines."""

    def __init__(self, quiet: bool = False, verbose: bool = False, timestamps: bool = False):
        self.quiet = quiet and not verbose
        self.verbose = verbose
        self.timestamps = timestamps

    def _write(self, stream: str, text: str) -> None:
        if self.timestamps:
            stamp = time.strftime("%Y/%m/%d %H:%M:%S") + f".{time.time_ns() // 1000 % 10**6:06d}"
            text = f"{stamp} {text}"
        out = sys.stderr if stream == "err" else sys.stdout
        out.write(text if text.endswith("\n") else text + "\n")

    def debug(self, message: str) -> None:
        if self.verbose:
            self._write("out", message)

    def info(self, message: str) -> None:
        if not self.quiet:
            self._write("out", message)

    def warn(self, message: str) -> None:
        self._write("out", f"Warning: {message}")

    def error(self, message: str) -> None:
        self._write("err", f"ERROR: {message}")
