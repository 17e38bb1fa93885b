"""
Pull policies: pack's three, plus rolling windows since ppack last pulled an image.

``hourly``, ``daily`` and ``weekly`` are rolling windows (24 h, not "since
midnight"), as in docker compose and pack's own unmerged PR #2075.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, timedelta


class Kind(enum.Enum):
    ALWAYS = "always"
    IF_NOT_PRESENT = "if-not-present"
    NEVER = "never"
    INTERVAL = "interval"


MAX_INTERVAL = timedelta(days=365)

ACCEPTED_FORMS = (
    "always, if-not-present, never, hourly, daily, weekly or interval=<duration> "
    "(e.g. interval=12h, interval=1w2d, interval=90m; units w, d, h, m, "
    "largest first, at most 365d)"
)

_NAMED_INTERVALS = {
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
    "weekly": timedelta(weeks=1),
}

# Each unit at most once, largest first; the digit cap keeps int() cheap on hostile input.
_DURATION = re.compile(
    r"(?:(?P<w>[1-9][0-9]{0,5})w)?(?:(?P<d>[1-9][0-9]{0,5})d)?"
    r"(?:(?P<h>[1-9][0-9]{0,6})h)?(?:(?P<m>[1-9][0-9]{0,8})m)?"
)
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}


class PolicyError(ValueError):
    """The text is not a pull policy ppack understands."""


@dataclass(frozen=True)
class PullPolicy:
    """A parsed policy; ``text`` is what the user wrote, for messages."""

    text: str
    kind: Kind
    interval: timedelta | None = None

    @property
    def is_interval(self) -> bool:
        return self.kind is Kind.INTERVAL


def parse_policy(text: str) -> PullPolicy:
    """Parse one policy string; raises PolicyError naming the value and the accepted forms."""
    for kind in (Kind.ALWAYS, Kind.IF_NOT_PRESENT, Kind.NEVER):
        if text == kind.value:
            return PullPolicy(text, kind)
    if text in _NAMED_INTERVALS:
        return PullPolicy(text, Kind.INTERVAL, _NAMED_INTERVALS[text])
    if text.startswith("interval="):
        interval = parse_duration(text.removeprefix("interval="))
        if interval is not None:
            return PullPolicy(text, Kind.INTERVAL, interval)
    shown = f"'{text}'" if text.isprintable() else repr(text)
    raise PolicyError(f"invalid pull policy {shown}: use {ACCEPTED_FORMS}")


def parse_duration(text: str) -> timedelta | None:
    """``1w2d``, ``12h``, ``90m`` → timedelta; None for anything else, zero or over 365 days."""
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        return None
    parts = {_UNITS[unit]: int(value) for unit, value in match.groupdict().items() if value}
    try:
        duration = timedelta(**parts)
    except OverflowError:
        return None
    if not timedelta(0) < duration <= MAX_INTERVAL:
        return None
    return duration


def format_duration(duration: timedelta) -> str:
    """The inverse of parse_duration, for messages and the pull-log table."""
    minutes = int(duration.total_seconds()) // 60
    out = []
    for size, unit in ((7 * 24 * 60, "w"), (24 * 60, "d"), (60, "h"), (1, "m")):
        count, minutes = divmod(minutes, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out) or "0m"


def format_age(age: timedelta) -> str:
    """A short human age: ``45 s``, ``12 min``, ``3 h``, ``2 days``."""
    seconds = int(age.total_seconds())
    if seconds < 0:
        return "in the future"
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{seconds // 60} min"
    if seconds < 36 * 3600:
        return f"{seconds // 3600} h"
    days = seconds // 86400
    return f"{days} day" if days == 1 else f"{days} days"


@dataclass(frozen=True)
class Decision:
    """Whether one image is pulled, and the reason shown with -v and in --dry-run."""

    pull: bool
    reason: str


def decide(
    policy: PullPolicy,
    *,
    present: bool,
    last_pulled: datetime | None,
    now: datetime,
) -> Decision:
    """The per-image rule; ``never`` with a missing image is the caller's error to raise."""
    if not present:
        return Decision(policy.kind is not Kind.NEVER, "not in the daemon")
    if policy.kind is Kind.ALWAYS:
        return Decision(True, "policy always")
    if policy.kind is not Kind.INTERVAL:
        return Decision(False, f"present (policy {policy.text})")
    assert policy.interval is not None  # noqa: S101 - guaranteed by Kind.INTERVAL
    if last_pulled is None:
        return Decision(True, "no pull recorded by ppack")
    age = now - last_pulled
    if age < timedelta(0):
        return Decision(True, "pull record is dated in the future")
    if age >= policy.interval:
        return Decision(True, f"pulled {format_age(age)} ago ({policy.text})")
    return Decision(False, f"pulled {format_age(age)} ago, fresh ({policy.text})")
