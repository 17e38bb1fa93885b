"""
The pull log (README "The pull log" and "Reliability"): the file format, corrupt files,
keeping a bad file aside, pruning, and keys. Time always comes in as a parameter.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from ppack import pulllog, reference
from ppack.policy import decide, parse_policy
from ppack.pulllog import CorruptLog, DaemonRecords, PullLog, Record


NOW = datetime(2026, 12, 3, 8, 0, 41, 551000, tzinfo=timezone.utc)
DAY = timedelta(days=1)
UBUNTU = reference.canonical("ubuntu")


def _record(at: datetime, name: str = "docker.io/library/ubuntu:latest") -> Record:
    return Record(
        at,
        name,
        image_id="sha256:" + "a" * 64,
        repo_digest="ubuntu@sha256:" + "b" * 64,
        platform="linux/amd64",
    )


def _valid() -> dict[str, Any]:
    log = PullLog(longest_interval=timedelta(hours=12))
    log.put("daemon-1", UBUNTU, _record(NOW - timedelta(hours=3)))
    return log.to_json()


def _write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data))


# --- the file format -------------------------------------------------------------------


def test_round_trip(tmp_path: Path) -> None:
    log = PullLog(longest_interval=timedelta(days=7))
    log.put("d1", UBUNTU, _record(NOW - DAY))
    log.put("d1", "docker.io/heroku/builder:24", Record(NOW, "index.docker.io/heroku/builder:24"))
    log.put("d2", UBUNTU, _record(NOW - timedelta(microseconds=1)))
    path = pulllog.log_path(tmp_path)
    pulllog.write_atomic(path, log.to_json())
    assert pulllog.read(path) == log
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ppack-pull-log.json"]  # no temporary left
    data = json.loads(path.read_text())
    assert data["schema"] == pulllog.SCHEMA == 1
    assert data["longest_interval_seconds"] == 7 * 86400
    assert data["daemons"]["d1"]["last_seen"] == "2026-12-03T08:00:41.551000Z"
    assert data["daemons"]["d2"]["images"][UBUNTU] == {
        "pulled_at": "2026-12-03T08:00:41.550999Z",
        "name": "docker.io/library/ubuntu:latest",
        "image_id": "sha256:" + "a" * 64,
        "repo_digest": "ubuntu@sha256:" + "b" * 64,
        "platform": "linux/amd64",
    }


def test_a_missing_file_is_an_empty_log(tmp_path: Path) -> None:
    assert pulllog.read(tmp_path / "nothing.json") == PullLog()
    assert pulllog.load(tmp_path / "nothing.json") == pulllog.Loaded(PullLog(), "")


def test_optional_record_fields_default_to_empty() -> None:
    record = Record.from_json({"pulled_at": "2026-12-03T08:00:00Z", "name": "x"})
    assert record == Record(datetime(2026, 12, 3, 8, tzinfo=timezone.utc), "x")


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (NOW, "2026-12-03T08:00:41.551000Z"),
        (datetime(2026, 12, 3, 10, 0, tzinfo=timezone(timedelta(hours=2))), "2026-12-03T08:00:00.000000Z"),
        (datetime(2026, 1, 1, tzinfo=timezone.utc), "2026-01-01T00:00:00.000000Z"),
    ],
    ids=str,
)
def test_timestamps_are_utc_iso_8601_with_microseconds(moment: datetime, text: str) -> None:
    assert pulllog.utc_iso(moment) == text
    assert pulllog.parse_utc(text) == moment


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01T09:12:03.104Z", datetime(2026, 12, 1, 9, 12, 3, 104000, tzinfo=timezone.utc)),
        ("2026-12-01T09:12:03.104123Z", datetime(2026, 12, 1, 9, 12, 3, 104123, tzinfo=timezone.utc)),
        ("2026-12-01T09:12:03Z", datetime(2026, 12, 1, 9, 12, 3, tzinfo=timezone.utc)),
        ("2026-12-01T09:12:03+00:00", datetime(2026, 12, 1, 9, 12, 3, tzinfo=timezone.utc)),
        ("2026-12-01T11:12:03.5+02:00", datetime(2026, 12, 1, 9, 12, 3, 500000, tzinfo=timezone.utc)),
    ],
    ids=str,
)
def test_parse_utc(text: str, expected: datetime) -> None:
    parsed = pulllog.parse_utc(text)
    assert parsed == expected
    assert parsed.tzinfo is timezone.utc


@pytest.mark.parametrize(
    "text",
    ["2026-12-01T09:12:03", "yesterday", "", "0001-01-01T00:00:00+01:00", "2026-13-01T00:00:00Z"],
    ids=repr,
)
def test_parse_utc_rejects(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is checked through read() below
        pulllog.parse_utc(text)


# --- corrupt or foreign files ----------------------------------------------------------


def _patched(change: Any) -> bytes:
    data = _valid()
    change(data)
    return json.dumps(data).encode()


def _daemon(data: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = data["daemons"]["daemon-1"]
    return entry


def _image(data: dict[str, Any]) -> dict[str, Any]:
    image: dict[str, Any] = _daemon(data)["images"][UBUNTU]
    return image


CORRUPT = [
    ("empty", b"", "the file is empty"),
    ("blank", b" \n\t", "the file is empty"),
    ("truncated", json.dumps(_valid()).encode()[:-7], "not JSON: "),
    ("binary", b"\x00\xff\xfe\x9c\x01binary", "not JSON: "),
    ("not-utf8", b'{"schema": 1, "daemons": {"\xff": {}}}', "not JSON: "),
    ("deeply-nested", b"[" * 100_000, "not JSON: "),
    ("top-level-array", b"[]", "not a JSON object"),
    ("top-level-string", b'"log"', "not a JSON object"),
    ("schema-missing", _patched(lambda d: d.pop("schema")), "unknown schema version None"),
    ("schema-2", _patched(lambda d: d.update(schema=2)), "unknown schema version 2"),
    ("schema-string", _patched(lambda d: d.update(schema="1")), "unknown schema version '1'"),
    ("schema-true", _patched(lambda d: d.update(schema=True)), "unknown schema version True"),
    ("schema-float", _patched(lambda d: d.update(schema=1.0)), "unknown schema version 1.0"),
    ("daemons-list", _patched(lambda d: d.update(daemons=[])), "wrong types at the top level"),
    ("daemons-missing", _patched(lambda d: d.pop("daemons")), "wrong types at the top level"),
    (
        "interval-string",
        _patched(lambda d: d.update(longest_interval_seconds="1")),
        "wrong types at the top level",
    ),
    (
        "interval-bool",
        _patched(lambda d: d.update(longest_interval_seconds=True)),
        "wrong types at the top level",
    ),
    (
        "daemon-not-object",
        _patched(lambda d: d["daemons"].update({"daemon-1": []})),
        "a daemon entry is malformed",
    ),
    ("images-list", _patched(lambda d: _daemon(d).update(images=[])), "a daemon entry is malformed"),
    ("last-seen-missing", _patched(lambda d: _daemon(d).pop("last_seen")), "a daemon entry is malformed"),
    (
        "last-seen-number",
        _patched(lambda d: _daemon(d).update(last_seen=1764748800)),
        "a daemon entry is malformed",
    ),
    (
        "last-seen-naive",
        _patched(lambda d: _daemon(d).update(last_seen="2026-12-03T08:00:00")),
        "a daemon entry is malformed: timestamp without a time zone",
    ),
    (
        "last-seen-out-of-range",
        _patched(lambda d: _daemon(d).update(last_seen="0001-01-01T00:00:00+01:00")),
        "a daemon entry is malformed: timestamp out of range",
    ),
    (
        "record-not-object",
        _patched(lambda d: _daemon(d)["images"].update({UBUNTU: "x"})),
        "a record is not an object of strings",
    ),
    (
        "record-number-field",
        _patched(lambda d: _image(d).update(image_id=5)),
        "a record is not an object of strings",
    ),
    (
        "record-null-field",
        _patched(lambda d: _image(d).update(name=None)),
        "a record is not an object of strings",
    ),
    (
        "record-no-pulled-at",
        _patched(lambda d: _image(d).pop("pulled_at")),
        "a record is malformed: 'pulled_at'",
    ),
    ("record-no-name", _patched(lambda d: _image(d).pop("name")), "a record is malformed: 'name'"),
    ("record-bad-time", _patched(lambda d: _image(d).update(pulled_at="soon")), "a record is malformed: "),
    (
        "record-naive-time",
        _patched(lambda d: _image(d).update(pulled_at="2026-12-03T08:00:00")),
        "a record is malformed: timestamp without a time zone",
    ),
]


@pytest.mark.parametrize(("content", "problem"), [c[1:] for c in CORRUPT], ids=[c[0] for c in CORRUPT])
def test_a_corrupt_log_is_rejected_with_a_clear_problem(tmp_path: Path, content: bytes, problem: str) -> None:
    path = pulllog.log_path(tmp_path)
    path.write_bytes(content)
    with pytest.raises(CorruptLog) as caught:
        pulllog.read(path)
    assert str(caught.value).startswith(problem)
    assert "\n" not in str(caught.value)
    # Readers: treated as empty, never "fresh" — every image counts as never pulled.
    loaded = pulllog.load(path)
    assert loaded == pulllog.Loaded(PullLog(), str(caught.value))
    record = loaded.log.record("daemon-1", UBUNTU)
    assert record is None
    assert decide(parse_policy("weekly"), present=True, last_pulled=None, now=NOW).pull


def test_the_valid_fixture_is_valid(tmp_path: Path) -> None:
    # The corrupt cases above each break one thing in this file.
    path = pulllog.log_path(tmp_path)
    _write(path, _valid())
    assert pulllog.read(path).record("daemon-1", UBUNTU) == _record(NOW - timedelta(hours=3))


def test_a_directory_in_place_of_the_log(tmp_path: Path) -> None:
    path = pulllog.log_path(tmp_path)
    path.mkdir()
    (path / "inside").write_text("x")
    assert pulllog.load(path) == pulllog.Loaded(PullLog(), "a directory stands where the file should be")
    problem = pulllog.update(path, {("d", UBUNTU): _record(NOW)}, NOW)
    assert problem == "a directory stands where the file should be"
    kept = tmp_path / "ppack-pull-log.json.corrupt-20261203T080041Z"
    assert (kept / "inside").read_text() == "x"
    assert pulllog.read(path).record("d", UBUNTU) == _record(NOW)


def test_a_corrupt_log_is_kept_aside_and_rewritten(tmp_path: Path) -> None:
    path = pulllog.log_path(tmp_path)
    path.write_bytes(b"\x00garbage")
    assert pulllog.update(path, {("d", UBUNTU): _record(NOW)}, NOW) == "not JSON: " + _json_error(
        b"\x00garbage"
    )
    assert (tmp_path / "ppack-pull-log.json.corrupt-20261203T080041Z").read_bytes() == b"\x00garbage"
    assert pulllog.read(path).record("d", UBUNTU) == _record(NOW)
    # A second bad file in the same second does not replace the first copy.
    path.write_bytes(b"{")
    pulllog.update(path, {("d", UBUNTU): _record(NOW)}, NOW + timedelta(milliseconds=10))
    assert (tmp_path / "ppack-pull-log.json.corrupt-20261203T080041Z").read_bytes() == b"\x00garbage"
    assert (tmp_path / "ppack-pull-log.json.corrupt-20261203T080041Z-1").read_bytes() == b"{"
    # A sound file is not kept aside.
    assert pulllog.update(path, {("d", "x"): _record(NOW)}, NOW) == ""
    assert len(list(tmp_path.glob("*.corrupt-*"))) == 2


def _json_error(raw: bytes) -> str:
    try:
        json.loads(raw)
    except ValueError as error:
        return str(error).splitlines()[0]
    raise AssertionError("valid JSON")


def test_rewrite_keeps_a_corrupt_log_aside(tmp_path: Path) -> None:
    path = pulllog.log_path(tmp_path)
    path.write_text('{"schema": 99}')
    assert pulllog.rewrite(path, lambda log: len(log.daemons), NOW) == 0
    assert (tmp_path / "ppack-pull-log.json.corrupt-20261203T080041Z").read_text() == '{"schema": 99}'
    assert pulllog.read(path) == PullLog()


# --- pruning: max(30 days, the longest interval used), on every write ------------------


def test_prune_drops_records_older_than_30_days() -> None:
    log = PullLog()
    log.put("d", "kept-at-the-limit", _record(NOW - 30 * DAY))
    log.put("d", "dropped", _record(NOW - 30 * DAY - timedelta(microseconds=1)))
    log.put("d", "recent", _record(NOW - DAY))
    assert log.prune(NOW) == 1
    assert sorted(log.daemons["d"].images) == ["kept-at-the-limit", "recent"]


def test_prune_keeps_records_within_the_longest_interval_used() -> None:
    log = PullLog(longest_interval=timedelta(days=60))
    log.put("d", "45-days", _record(NOW - 45 * DAY))
    log.put("d", "61-days", _record(NOW - 61 * DAY))
    assert log.prune(NOW) == 1
    assert list(log.daemons["d"].images) == ["45-days"]


def test_prune_drops_daemons_not_seen_for_that_long() -> None:
    log = PullLog()
    log.put("gone", "a", _record(NOW - 40 * DAY))
    log.put("gone", "b", _record(NOW - 31 * DAY))
    log.put("here", "a", _record(NOW - 40 * DAY))
    log.put("here", "b", _record(NOW - DAY))
    # A daemon last seen long ago goes with its records, even ones that look recent.
    log.daemons["stale"] = DaemonRecords(NOW - 31 * DAY, {"a": _record(NOW - DAY)})
    assert log.prune(NOW) == 4
    assert list(log.daemons) == ["here"]
    assert list(log.daemons["here"].images) == ["b"]
    assert log.daemons["here"].last_seen == NOW - DAY


def test_prune_keeps_a_record_dated_in_the_future() -> None:
    # Not old, so not pruned; but it counts as stale, so the next build pulls and replaces it.
    log = PullLog()
    log.put("d", UBUNTU, _record(NOW + 400 * DAY))
    assert log.prune(NOW) == 0
    record = log.record("d", UBUNTU)
    assert record is not None
    assert decide(parse_policy("daily"), present=True, last_pulled=record.pulled_at, now=NOW).pull


def test_every_update_prunes_with_the_time_it_is_given(tmp_path: Path) -> None:
    path = pulllog.log_path(tmp_path)
    pulllog.update(path, {("old", "a"): _record(NOW - 20 * DAY), ("d", "b"): _record(NOW - 20 * DAY)}, NOW)
    assert pulllog.read(path).record("old", "a") is not None
    # Eleven days later (by the clock passed in, not the wall clock) both are over 30 days old.
    later = NOW + 11 * DAY
    pulllog.update(path, {("d", "c"): _record(later)}, later)
    log = pulllog.read(path)
    assert list(log.daemons) == ["d"]
    assert list(log.daemons["d"].images) == ["c"]


def test_update_remembers_the_longest_interval_used(tmp_path: Path) -> None:
    path = pulllog.log_path(tmp_path)
    pulllog.update(path, {("d", "a"): _record(NOW - 50 * DAY)}, NOW, interval=timedelta(days=60))
    pulllog.update(path, {("d", "b"): _record(NOW)}, NOW, interval=timedelta(hours=1))  # does not lower it
    log = pulllog.read(path)
    assert log.longest_interval == timedelta(days=60)
    assert sorted(log.daemons["d"].images) == ["a", "b"]
    pulllog.update(path, {}, NOW + 11 * DAY)
    assert sorted(pulllog.read(path).daemons["d"].images) == ["b"]


def test_rewrite_prunes_too(tmp_path: Path) -> None:
    path = pulllog.log_path(tmp_path)
    pulllog.update(path, {("d", "a"): _record(NOW - 29 * DAY), ("d", "b"): _record(NOW)}, NOW)
    forgotten = pulllog.rewrite(path, lambda log: log.forget("d", "b"), NOW + 2 * DAY)
    assert forgotten is True
    assert pulllog.read(path) == PullLog()


def test_update_forgets_with_none(tmp_path: Path) -> None:
    path = pulllog.log_path(tmp_path)
    pulllog.update(path, {("d", "a"): _record(NOW), ("d", "b"): _record(NOW)}, NOW)
    pulllog.update(path, {("d", "a"): None, ("d", "never-there"): None}, NOW)
    assert list(pulllog.read(path).daemons["d"].images) == ["b"]


# --- keys: per daemon, then Docker's canonical image name ------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "ubuntu",
        "ubuntu:latest",
        "library/ubuntu",
        "docker.io/library/ubuntu:latest",
        "index.docker.io/ubuntu",
    ],
)
def test_records_are_keyed_by_canonical_name(tmp_path: Path, name: str) -> None:
    path = pulllog.log_path(tmp_path)
    pulllog.update(path, {("d", reference.canonical("ubuntu")): _record(NOW)}, NOW)
    log = pulllog.read(path)
    assert log.record("d", reference.canonical(name)) == _record(NOW)
    assert log.record("other-daemon", reference.canonical(name)) is None
    assert log.record("d", reference.canonical("ubuntu:22.04")) is None


def test_put_replaces_and_last_seen_follows_the_latest_pull() -> None:
    log = PullLog()
    log.put("d", UBUNTU, _record(NOW))
    log.put("d", "x", _record(NOW - DAY))
    log.put("d", UBUNTU, _record(NOW + DAY))
    assert log.record("d", UBUNTU) == _record(NOW + DAY)
    assert log.daemons["d"].last_seen == NOW + DAY
    assert log.forget("d", UBUNTU) is True
    assert log.forget("d", UBUNTU) is False
    assert log.forget("nobody", UBUNTU) is False
