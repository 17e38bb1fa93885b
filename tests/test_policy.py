"""Pull policies: parsing (README "Pull policies"), the per-image decision, and the age texts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ppack.policy import (
    ACCEPTED_FORMS,
    Kind,
    PolicyError,
    PullPolicy,
    decide,
    format_age,
    format_duration,
    parse_duration,
    parse_policy,
)


NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)
D = timedelta(days=1)
W = timedelta(weeks=1)
M = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("text", "kind", "interval"),
    [
        ("always", Kind.ALWAYS, None),
        ("if-not-present", Kind.IF_NOT_PRESENT, None),
        ("never", Kind.NEVER, None),
        ("hourly", Kind.INTERVAL, H),
        ("daily", Kind.INTERVAL, D),
        ("weekly", Kind.INTERVAL, W),
        ("interval=1d", Kind.INTERVAL, D),
        ("interval=12h", Kind.INTERVAL, 12 * H),
        ("interval=1w2d", Kind.INTERVAL, W + 2 * D),
        ("interval=90m", Kind.INTERVAL, 90 * M),
        ("interval=1w2d3h4m", Kind.INTERVAL, W + 2 * D + 3 * H + 4 * M),
        ("interval=25h", Kind.INTERVAL, 25 * H),  # no carrying required
        ("interval=365d", Kind.INTERVAL, 365 * D),  # the limit, exactly
        ("interval=52w1d", Kind.INTERVAL, 365 * D),
        ("interval=8760h", Kind.INTERVAL, 365 * D),
        ("interval=525600m", Kind.INTERVAL, 365 * D),
        ("interval=1m", Kind.INTERVAL, M),
    ],
    ids=str,
)
def test_accepted_policies(text: str, kind: Kind, interval: timedelta | None) -> None:
    policy = parse_policy(text)
    assert policy == PullPolicy(text, kind, interval)
    assert policy.is_interval is (kind is Kind.INTERVAL)


@pytest.mark.parametrize(
    "text",
    [
        "0d",
        "12h",  # a duration needs interval=
        "interval=0d",
        "interval=0m",
        "interval=-1d",
        "interval=1x",
        "interval=12h1d",  # largest first
        "interval=1d1d",  # each unit at most once
        "interval=1m1h",
        "interval=",
        "interval",
        "interval=d",
        "interval=1.5h",
        "interval=1 d",
        "interval= 1d",
        "interval=1D",
        "interval=+1d",
        "interval=01d",  # leading zeros are not a canonical positive integer
        "interval=00h",
        "interval=1w0d",
        "interval=365d1m",  # just over the limit
        "interval=366d",
        "interval=8761h",
        "interval=525601m",
        "interval=53w",
        "interval=9999999999w",  # too long for the pattern: no int() of hostile input
        "interval=\u0661d",  # a non-ASCII digit (ARABIC-INDIC ONE)
        "Daily",
        "DAILY",
        " daily",
        "daily ",
        "daily\n",
        "Always",
        "monthly",
        "interval:1d",
        "if_not_present",
        "",
    ],
    ids=repr,
)
def test_rejected_policies_name_the_value_and_the_accepted_forms(text: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    message = str(caught.value)
    # Quoted once: printable values in quotes, others as Python shows them (repr quotes them).
    shown = f"'{text}'" if text.isprintable() else repr(text)
    assert message == f"invalid pull policy {shown}: use {ACCEPTED_FORMS}"
    assert "\n" not in message  # one line, even for a value with a newline in it
    for form in ("always", "if-not-present", "never", "hourly", "daily", "weekly", "interval=<duration>"):
        assert form in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1w", W), ("2d3h", 2 * D + 3 * H), ("", None), ("0m", None), ("1h1h", None), ("366d", None)],
    ids=repr,
)
def test_parse_duration(text: str, expected: timedelta | None) -> None:
    assert parse_duration(text) == expected


def _policy(text: str) -> PullPolicy:
    return parse_policy(text)


@pytest.mark.parametrize(
    ("policy", "present", "age", "pull", "reason"),
    [
        # A missing image is pulled whatever the log says, except under never (the caller's error).
        ("always", False, None, True, "not in the daemon"),
        ("if-not-present", False, None, True, "not in the daemon"),
        ("never", False, None, False, "not in the daemon"),
        ("daily", False, timedelta(0), True, "not in the daemon"),
        ("daily", False, H, True, "not in the daemon"),
        # Present images.
        ("always", True, timedelta(0), True, "policy always"),
        ("always", True, None, True, "policy always"),
        ("if-not-present", True, None, False, "present (policy if-not-present)"),
        ("if-not-present", True, 400 * D, False, "present (policy if-not-present)"),
        ("never", True, 400 * D, False, "present (policy never)"),
        ("daily", True, None, True, "no pull recorded by ppack"),
        ("daily", True, timedelta(0), False, "pulled 0 s ago, fresh (daily)"),
        ("daily", True, D - timedelta(microseconds=1), False, "pulled 23 h ago, fresh (daily)"),
        ("daily", True, D, True, "pulled 24 h ago (daily)"),
        ("daily", True, 2 * D, True, "pulled 2 days ago (daily)"),
        ("hourly", True, 59 * M, False, "pulled 59 min ago, fresh (hourly)"),
        ("hourly", True, H, True, "pulled 60 min ago (hourly)"),
        ("weekly", True, W - M, False, "pulled 6 days ago, fresh (weekly)"),
        ("weekly", True, W, True, "pulled 7 days ago (weekly)"),
        ("interval=90m", True, 89 * M, False, "pulled 89 min ago, fresh (interval=90m)"),
        ("interval=90m", True, 90 * M, True, "pulled 1 h ago (interval=90m)"),
        ("interval=365d", True, 365 * D, True, "pulled 365 days ago (interval=365d)"),
        # A record dated in the future is stale: it cannot be trusted to be fresh.
        ("daily", True, -timedelta(seconds=1), True, "pull record is dated in the future"),
        ("weekly", True, -400 * D, True, "pull record is dated in the future"),
    ],
    ids=str,
)
def test_decide(policy: str, present: bool, age: timedelta | None, pull: bool, reason: str) -> None:
    last_pulled = None if age is None else NOW - age
    decision = decide(_policy(policy), present=present, last_pulled=last_pulled, now=NOW)
    assert (decision.pull, decision.reason) == (pull, reason)


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (timedelta(0), "0 s"),
        (timedelta(seconds=89), "89 s"),
        (timedelta(seconds=90), "1 min"),
        (timedelta(seconds=90 * 60 - 1), "89 min"),
        (timedelta(minutes=90), "1 h"),
        (timedelta(hours=36) - timedelta(seconds=1), "35 h"),
        (timedelta(hours=36), "1 day"),
        (timedelta(hours=47), "1 day"),
        (2 * D, "2 days"),
        (400 * D, "400 days"),
        (-timedelta(seconds=1), "in the future"),
    ],
    ids=str,
)
def test_format_age(age: timedelta, text: str) -> None:
    assert format_age(age) == text


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (W + 2 * D + 3 * H + 4 * M, "1w2d3h4m"),
        (90 * M, "1h30m"),
        (D, "1d"),
        (365 * D, "52w1d"),
        (timedelta(seconds=59), "0m"),
        (timedelta(0), "0m"),
    ],
    ids=str,
)
def test_format_duration(duration: timedelta, text: str) -> None:
    assert format_duration(duration) == text


@pytest.mark.parametrize("text", ["1w2d3h4m", "1h30m", "1d", "52w1d", "59m", "3w"])
def test_format_duration_round_trips_canonical_durations(text: str) -> None:
    duration = parse_duration(text)
    assert duration is not None
    assert format_duration(duration) == text
