"""
Pull progress on stderr, in the docker CLI's manner.

On a terminal: a live block, one line per image with a line per active layer,
each image collapsing to one summary line when done. Off a terminal (CI logs):
only state changes, one line when an image starts and one when it finishes,
never a carriage return. ``-q`` shows nothing but errors.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from ppack.messages import Reporter, Verbosity


class Progress(Protocol):
    def started(self, image: str, reason: str) -> None: ...
    def event(self, image: str, message: dict[str, Any]) -> None: ...
    def finished(self, image: str, summary: str) -> None: ...
    def failed(self, image: str) -> None: ...
    def close(self) -> None: ...


def human_bytes(count: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


@dataclass
class _Layer:
    status: str = ""
    current: int = 0
    total: int = 0
    units: str = ""
    size: int = 0  # compressed bytes, from the download phase
    done: bool = False


@dataclass
class _Image:
    reason: str
    started: float
    layers: dict[str, _Layer] = field(default_factory=dict)
    up_to_date: bool = False  # the registry had nothing newer than the daemon's copy

    def downloaded(self) -> int:
        return sum(layer.size for layer in self.layers.values())


def track(state: _Image, message: dict[str, Any]) -> None:
    """Fold one Engine API progress message into the image's layer table."""
    layer_id = message.get("id")
    status = str(message.get("status") or "")
    if status.startswith("Status: Image is up to date"):
        state.up_to_date = True
    if not layer_id or status.startswith(("Pulling from", "Digest:", "Status:")):
        return
    layer = state.layers.setdefault(str(layer_id), _Layer())
    layer.status = status
    detail = message.get("progressDetail") or {}
    # The containerd image store reports extraction as elapsed seconds, with no total.
    layer.units = str(detail.get("units") or "")
    layer.current = int(detail.get("current") or 0)
    layer.total = int(detail.get("total") or 0)
    if status.startswith("Downloading"):
        layer.size = max(layer.size, layer.total, layer.current)
    layer.done = status in ("Pull complete", "Already exists")


class LineProgress:
    """For logs: a line per image start and finish; no animation."""

    def __init__(self, reporter: Reporter) -> None:
        self._reporter = reporter
        self._lock = threading.Lock()

    def started(self, image: str, reason: str) -> None:
        with self._lock:
            self._reporter.info(f"Pulling {image} ({reason})")

    def event(self, image: str, message: dict[str, Any]) -> None:
        del image, message

    def finished(self, image: str, summary: str) -> None:
        with self._lock:
            self._reporter.info(summary)

    def failed(self, image: str) -> None:
        del image

    def close(self) -> None:
        pass


class LiveProgress:
    """
    For terminals: a block at the bottom of the screen, redrawn in place at most
    ten times a second. A finished image leaves the block as one permanent summary
    line; anything else ppack prints meanwhile (a warning from another pull) is
    written above the block instead of being drawn over.
    """

    def __init__(self, reporter: Reporter, clock: Any = time.monotonic) -> None:
        self._reporter = reporter
        self._clock = clock
        # Re-entrant: a redraw writes through the reporter, which may call back in here.
        self._lock = threading.RLock()
        self._images: dict[str, _Image] = {}
        self._drawn_lines = 0
        self._last_draw = 0.0
        reporter.overlay = self.print_above

    def started(self, image: str, reason: str) -> None:
        with self._lock:
            self._images[image] = _Image(reason, self._clock())
            self._draw(force=True)

    def event(self, image: str, message: dict[str, Any]) -> None:
        with self._lock:
            state = self._images.get(image)
            if state is not None:
                track(state, message)
                self._draw()

    def finished(self, image: str, summary: str) -> None:
        with self._lock:
            self._images.pop(image, None)
            self.print_above(summary + "\n")

    def failed(self, image: str) -> None:
        with self._lock:
            self._images.pop(image, None)
            self._draw(force=True)

    def print_above(self, text: str) -> None:
        with self._lock:
            self._reporter.raw(self._erase() + text)
            self._drawn_lines = 0
            self._draw(force=True)

    def close(self) -> None:
        """Leave nothing half-drawn: after Ctrl-C, pulls still in the block are simply gone."""
        with self._lock:
            if self._drawn_lines:
                self._reporter.raw(self._erase())
            self._drawn_lines = 0
            self._images.clear()
            self._reporter.overlay = None

    def _erase(self) -> str:
        return "\x1b[1A\x1b[2K" * self._drawn_lines

    def _draw(self, *, force: bool = False) -> None:
        now = self._clock()
        if not force and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        lines = self._lines()
        if not lines and not self._drawn_lines:
            return
        self._reporter.raw(self._erase() + "".join(f"\r\x1b[2K{line}\n" for line in lines))
        self._drawn_lines = len(lines)

    def _lines(self) -> list[str]:
        lines: list[str] = []
        for image, state in self._images.items():
            lines.append(f"Pulling {image} ({state.reason})")
            lines.extend(
                f"  {layer_id}: {_layer_text(layer)}"
                for layer_id, layer in state.layers.items()
                if not layer.done
            )
        return lines


def _layer_text(layer: _Layer) -> str:
    if layer.units:
        return f"{layer.status} {layer.current} {layer.units}"
    if layer.total:
        return f"{layer.status} {human_bytes(layer.current)}/{human_bytes(layer.total)}"
    return layer.status


def make_progress(reporter: Reporter) -> Progress:
    if reporter.verbosity < Verbosity.NORMAL:
        return QuietProgress()
    return LiveProgress(reporter) if reporter.interactive else LineProgress(reporter)


class QuietProgress:
    def started(self, image: str, reason: str) -> None:
        del image, reason

    def event(self, image: str, message: dict[str, Any]) -> None:
        del image, message

    def finished(self, image: str, summary: str) -> None:
        del image, summary

    def failed(self, image: str) -> None:
        del image

    def close(self) -> None:
        pass
