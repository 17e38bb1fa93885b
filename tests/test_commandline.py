"""
pack's argv as pack parses it (cobra/pflag, reference §11), and the argv pack receives.

Expectations name flags by their long name: a ``str`` (or None) is ``Scan.last``, a list is
``Scan.values`` (comma-split for StringSlice flags only) and a bool is ``Scan.enabled``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ppack.commandline import find_command, rewrite_for_pack, scan


Want = dict[str, "str | list[str] | bool | None"]


@dataclass(frozen=True)
class Case:
    id: str
    argv: list[str]
    want: Want = field(default_factory=dict)
    positionals: list[str] | None = None  # default: ["app"]
    command: str | None = "build"
    problem: str = ""


SCAN_CASES = [
    # Long and short value forms.
    Case("long-space", ["build", "app", "--builder", "x"], {"builder": "x"}),
    Case("long-equals", ["build", "app", "--builder=x"], {"builder": "x"}),
    Case("long-equals-empty", ["build", "app", "--builder="], {"builder": ""}),
    Case("long-equals-keeps-later-equals", ["build", "app", "--env=A=B"], {"env": ["A=B"]}),
    Case("short-space", ["build", "app", "-B", "x"], {"builder": "x"}),
    Case("short-attached", ["build", "app", "-Bx"], {"builder": "x"}),
    Case("short-equals", ["build", "app", "-B=x"], {"builder": "x"}),
    Case("short-equals-only-is-the-value-=", ["build", "app", "-B="], {"builder": "="}),
    Case("short-double-equals", ["build", "app", "-B==x"], {"builder": "=x"}),
    Case(
        "other-shorts",
        ["build", "app", "-p", "dir", "-d", "p.toml", "-D", "web", "-r", "reg"],
        {"path": "dir", "descriptor": "p.toml", "default-process": "web", "buildpack-registry": "reg"},
    ),
    # Bool clusters, and a value-taking short ending one.
    Case("bool-cluster", ["build", "-qv", "app"], {"quiet": True, "verbose": True}),
    Case("cluster-ending-in-value-short", ["build", "-qB", "b", "app"], {"quiet": True, "builder": "b"}),
    Case(
        "cluster-with-attached-value",
        ["build", "-vqBb", "app"],
        {"verbose": True, "quiet": True, "builder": "b"},
    ),
    Case("cluster-value-swallows-the-rest", ["build", "-Bqv", "app"], {"builder": "qv", "quiet": None}),
    Case("short-bool-equals-false", ["build", "app", "-q=false"], {"quiet": False}),
    Case("cluster-bool-equals", ["build", "app", "-qv=false"], {"quiet": True, "verbose": False}),
    # A value-taking flag consumes the next element, whatever it looks like.
    Case(
        "value-starting-with-dash",
        ["build", "app", "-e", "--pull-policy"],
        {"env": ["--pull-policy"], "pull-policy": None},
    ),
    Case("value-is-double-dash", ["build", "app", "-e", "--"], {"env": ["--"]}),
    Case("env-equals-flag-lookalike", ["build", "app", "--env=--pull-policy"], {"env": ["--pull-policy"]}),
    Case("pull-policy-takes-dash-dash", ["build", "app", "--pull-policy", "--"], {"pull-policy": "--"}),
    Case("value-is-a-lone-dash", ["build", "app", "-B", "-"], {"builder": "-"}),
    # -- ends flags: what follows is positional.
    Case("image-after-double-dash", ["build", "-B", "x", "--", "app"], {"builder": "x"}),
    Case(
        "flag-lookalike-after-double-dash",
        ["build", "-B", "x", "--", "--pull-policy"],
        {"pull-policy": None},
        positionals=["--pull-policy"],
    ),
    Case("lone-dash-is-positional", ["build", "-", "-B", "x"], {"builder": "x"}, positionals=["-"]),
    # Repeats: last wins for strings; slices split on commas (CSV), arrays do not.
    Case("string-last-wins", ["build", "app", "-B", "a", "--builder=b", "-Bc"], {"builder": "c"}),
    Case(
        "pull-policy-last-wins",
        ["build", "app", "--pull-policy=weekly", "--pull-policy", "hourly"],
        {"pull-policy": "hourly"},
    ),
    Case("pull-policy-empty", ["build", "app", "--pull-policy", ""], {"pull-policy": ""}),
    Case(
        "buildpack-slice",
        ["build", "app", "-b", "a,b", "--buildpack", "c", "-bd"],
        {"buildpack": ["a", "b", "c", "d"]},
    ),
    Case(
        "buildpack-csv-quotes",
        ["build", "app", "-b", '"x,y",z', "-b", '"say ""hi"""'],
        {"buildpack": ["x,y", "z", 'say "hi"']},
    ),
    Case(
        "buildpack-csv-keeps-spaces-and-empties",
        ["build", "app", "-b", " a,,b,"],
        {"buildpack": [" a", "", "b", ""]},
    ),
    Case("buildpack-empty-value", ["build", "app", "-b", ""], {"buildpack": []}),
    Case("buildpack-first-csv-record-only", ["build", "app", "-b", "a,b\nc"], {"buildpack": ["a", "b"]}),
    Case(
        "extension-slice",
        ["build", "app", "--extension", "e1,e2", "--extension=e3"],
        {"extension": ["e1", "e2", "e3"]},
    ),
    Case("tag-slice", ["build", "app", "-t", "a:1,a:2", "--tag", "a:3"], {"tag": ["a:1", "a:2", "a:3"]}),
    Case(
        "env-array",
        ["build", "app", "-e", "A=1,2", "-e", "B", "--env", "C=3"],
        {"env": ["A=1,2", "B", "C=3"]},
    ),
    Case(
        "other-arrays",
        [
            "build",
            "app",
            "--volume",
            "a:/b,ro",
            "--pre-buildpack",
            "x,y",
            "--post-buildpack",
            "p,q",
            "--env-file",
            "f,g",
            "--insecure-registry",
            "r,s",
        ],
        {
            "volume": ["a:/b,ro"],
            "pre-buildpack": ["x,y"],
            "post-buildpack": ["p,q"],
            "env-file": ["f,g"],
            "insecure-registry": ["r,s"],
        },
    ),
    Case(
        "cache-value",
        ["build", "app", "--cache", "type=build;format=volume"],
        {"cache": ["type=build;format=volume"]},
    ),
    Case("int-flags", ["build", "app", "--gid", "1000", "--uid=0"], {"gid": "1000", "uid": "0"}),
    # Global flags before and after the command; the image anywhere.
    Case("global-before", ["-q", "build", "app"], {"quiet": True}),
    Case(
        "globals-around",
        ["--no-color", "build", "app", "-v", "--timestamps", "--force-color"],
        {"no-color": True, "verbose": True, "timestamps": True, "force-color": True},
    ),
    Case("image-first", ["build", "app", "-B", "x"], {"builder": "x"}),
    Case("image-middle", ["build", "-B", "x", "app", "--publish"], {"builder": "x", "publish": True}),
    Case("image-last", ["build", "-B", "x", "--publish", "app"], {"publish": True}),
    # cobra finds the command skipping values of flags the root does not know as bools.
    Case("build-flag-before-command", ["-B", "x", "build", "app"], {"builder": "x"}),
    Case("pull-policy-before-command", ["--pull-policy=daily", "build", "app"], {"pull-policy": "daily"}),
    Case("value-flag-skips-a-build-lookalike", ["-B", "build", "build", "app"], {"builder": "build"}),
    Case(
        "unknown-bool-before-command-eats-it",
        ["--publish", "build", "app"],
        command="app",
        positionals=[],
        problem="unknown flag: --publish",
    ),
    Case(
        "cluster-before-command-does-not-skip",
        ["-qB", "x", "build", "app"],
        command="x",
        positionals=[],
        problem="unknown shorthand flag: 'B' in -B",
    ),
    # Bools: =true/=false, and a separate "false" is a positional.
    Case("bool-equals-false", ["build", "app", "--publish=false"], {"publish": False}),
    Case("bool-equals-zero", ["build", "app", "--trust-builder=0"], {"trust-builder": False}),
    Case("bool-equals-T", ["build", "app", "--trust-builder=T"], {"trust-builder": True}),
    Case(
        "bool-separate-false-is-positional",
        ["build", "app", "--publish", "false"],
        {"publish": True},
        positionals=["app", "false"],
        problem="accepts 1 arg(s), received 2",
    ),
    Case("ppack-dry-run", ["build", "app", "--dry-run"], {"dry-run": True}),
    # What pack rejects: ppack must not guess.
    Case("unknown-long", ["build", "app", "--bogus", "x"], problem="unknown flag: --bogus"),
    Case("unknown-short", ["build", "app", "-x"], problem="unknown shorthand flag: 'x' in -x"),
    Case("short-bool-equals-nothing", ["build", "app", "-q="], problem="unknown shorthand flag: '=' in -="),
    Case("unknown-short-in-cluster", ["build", "app", "-qxv"], problem="unknown shorthand flag: 'x' in -xv"),
    Case("bad-long-syntax", ["build", "app", "---B"], problem="unknown flag: ---B"),
    Case("version-is-root-only", ["build", "app", "--version"], problem="unknown flag: --version"),
    Case(
        "bad-bool",
        ["build", "app", "--publish=maybe"],
        problem='invalid argument "maybe" for "--publish" flag',
    ),
    Case("missing-long-value", ["build", "app", "--builder"], problem="flag needs an argument: --builder"),
    Case("missing-short-value", ["build", "app", "-qB"], problem="flag needs an argument: 'B' in -B"),
    Case(
        "bare-quote-in-slice",
        ["build", "app", "-b", 'a"b'],
        problem='invalid argument "a"b" for "-b, --buildpack" flag: bare " in non-quoted-field',
    ),
    Case(
        "unterminated-quote-in-slice",
        ["build", "app", "--tag", '"a'],
        problem='invalid argument ""a" for "-t, --tag" flag: extraneous or missing " in quoted-field',
    ),
    Case(
        "text-after-quote-in-slice",
        ["build", "app", "--extension", '"a"b'],
        problem='invalid argument ""a"b" for "--extension" flag: extraneous or missing " in quoted-field',
    ),
    Case("no-image", ["build", "-B", "x"], positionals=[], problem="accepts 1 arg(s), received 0"),
    Case("two-images", ["build", "a", "b"], positionals=["a", "b"], problem="accepts 1 arg(s), received 2"),
    Case("help-needs-no-image", ["build", "-h"], {"help": True}, positionals=[]),
    # Other commands: ppack only needs the globals; anything else is pack's to judge.
    Case("no-command-version", ["--version"], {"version": True}, command=None, positionals=[]),
    Case("no-command-help", ["-h"], {"help": True}, command=None, positionals=[]),
    Case("double-dash-before-command", ["--", "build", "app"], command=None, positionals=["build", "app"]),
    Case(
        "other-command",
        ["-q", "builder", "inspect", "x"],
        {"quiet": True},
        command="builder",
        positionals=["inspect", "x"],
    ),
    Case(
        "other-command-unknown-flag",
        ["config", "pull-policy", "--unset"],
        command="config",
        positionals=["pull-policy"],
        problem="unknown flag: --unset",
    ),
    Case(
        "own-command",
        ["pull-log", "--json"],
        command="pull-log",
        positionals=[],
        problem="unknown flag: --json",
    ),
]


@pytest.mark.parametrize("case", SCAN_CASES, ids=[case.id for case in SCAN_CASES])
def test_scan(case: Case) -> None:
    result = scan(case.argv)
    assert result.problem == case.problem
    assert result.command == ([] if case.command is None else [case.command])
    if case.command is not None:
        assert result.command_index is not None
        assert case.argv[result.command_index] == case.command
    assert result.positionals == (["app"] if case.positionals is None else case.positionals)
    for name, expected in case.want.items():
        if isinstance(expected, bool):
            assert result.enabled(name) is expected, name
        elif isinstance(expected, list):
            assert result.values(name) == expected, name
        else:
            assert result.last(name) == expected, name


def test_given_tells_an_empty_value_from_none() -> None:
    result = scan(["build", "app", "--pull-policy="])
    assert result.given("pull-policy")
    assert not result.given("builder")


@pytest.mark.parametrize(
    ("argv", "index"),
    [
        (["build", "app"], 0),
        (["-q", "--no-color", "-v", "build"], 3),
        (["--timestamps=true", "build"], 1),
        (["-B", "x", "build"], 2),
        (["--builder", "x", "build"], 2),
        (["--builder=x", "build"], 1),
        (["--publish", "build", "app"], 2),
        (["-qB", "x", "build"], 1),
        (["", "build"], 1),
        (["-", "build"], 1),
        (["--", "build"], None),
        (["-q"], None),
        ([], None),
    ],
    ids=repr,
)
def test_find_command_as_cobra(argv: list[str], index: int | None) -> None:
    assert find_command(argv) == index


@dataclass(frozen=True)
class Rewrite:
    id: str
    argv: list[str]
    expected: list[str]
    policy: str = "never"


REWRITES = [
    Rewrite("no-policy", ["build", "app", "-B", "x"], ["build", "--pull-policy", "never", "app", "-B", "x"]),
    Rewrite(
        "space",
        ["build", "app", "--pull-policy", "daily", "-B", "x"],
        ["build", "--pull-policy", "never", "app", "-B", "x"],
    ),
    Rewrite("equals", ["build", "app", "--pull-policy=daily"], ["build", "--pull-policy", "never", "app"]),
    Rewrite("equals-empty", ["build", "app", "--pull-policy="], ["build", "--pull-policy", "never", "app"]),
    Rewrite("space-empty", ["build", "app", "--pull-policy", ""], ["build", "--pull-policy", "never", "app"]),
    Rewrite(
        "every-occurrence",
        [
            "build",
            "--pull-policy",
            "always",
            "app",
            "--pull-policy=weekly",
            "-q",
            "--pull-policy",
            "interval=12h",
        ],
        ["build", "--pull-policy", "never", "app", "-q"],
    ),
    Rewrite(
        "value-dash-dash", ["build", "app", "--pull-policy", "--"], ["build", "--pull-policy", "never", "app"]
    ),
    Rewrite(
        "dry-run",
        ["build", "app", "--dry-run", "--dry-run=false"],
        ["build", "--pull-policy", "never", "app"],
    ),
    Rewrite(
        "globals-kept-in-place",
        ["-q", "build", "app", "--pull-policy", "daily", "-v"],
        ["-q", "build", "--pull-policy", "never", "app", "-v"],
    ),
    Rewrite(
        "flags-before-command",
        ["-B", "x", "--pull-policy=daily", "build", "app"],
        ["-B", "x", "build", "--pull-policy", "never", "app"],
    ),
    Rewrite(
        "values-that-look-like-the-flag",
        ["build", "app", "-e", "--pull-policy", "--env=--pull-policy=x", "-e", "--dry-run"],
        [
            "build",
            "--pull-policy",
            "never",
            "app",
            "-e",
            "--pull-policy",
            "--env=--pull-policy=x",
            "-e",
            "--dry-run",
        ],
    ),
    Rewrite(
        "after-double-dash-untouched",
        ["build", "-B", "x", "--pull-policy", "daily", "--", "--pull-policy"],
        ["build", "--pull-policy", "never", "-B", "x", "--", "--pull-policy"],
    ),
    Rewrite(
        "bytes-kept",
        ["build", "app", "-e", "A=1\n2", "-e", " B = é ", "-t", "a,b", "--cache", "x;y"],
        [
            "build",
            "--pull-policy",
            "never",
            "app",
            "-e",
            "A=1\n2",
            "-e",
            " B = é ",
            "-t",
            "a,b",
            "--cache",
            "x;y",
        ],
    ),
    Rewrite(
        "another-policy",
        ["build", "app", "--pull-policy", "daily"],
        ["build", "--pull-policy", "always", "app"],
        policy="always",
    ),
]


@pytest.mark.parametrize("case", REWRITES, ids=[case.id for case in REWRITES])
def test_rewrite_for_pack(case: Rewrite) -> None:
    before = scan(case.argv)
    assert not before.problem
    rewritten = rewrite_for_pack(before, case.policy)
    assert rewritten == case.expected
    assert before.argv == case.argv  # the scan's copy is not modified
    # pack parses the rewritten argv as the user's, but with ppack's policy and without ppack's flags.
    after = scan(rewritten)
    assert not after.problem
    assert after.last("pull-policy") == case.policy
    assert after.positionals == before.positionals
    kept = [
        (o.flag.name, o.value) for o in before.occurrences if o.flag.name not in ("pull-policy", "dry-run")
    ]
    assert [(o.flag.name, o.value) for o in after.occurrences if o.flag.name != "pull-policy"] == kept
