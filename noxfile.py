"""Sessions: `nox` runs tests, lint and typecheck; `nox -s bench` runs the benchmark."""

from __future__ import annotations

import nox


nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_external_run = True

PYPROJECT = nox.project.load_toml("pyproject.toml")


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite, against a private dockerd and registry the tests start (needs root)."""
    session.install("-e", ".", *_group("tests"))
    session.run("pytest", *(session.posargs or ["-q"]))
    # The installed entry point runs, and `python -m ppack` too (pack itself may be absent here).
    session.run("ppack", "--version")
    session.run("python", "-m", "ppack", "--version")


@nox.session
def lint(session: nox.Session) -> None:
    session.install(*_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".", *_group("typing"))
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmark of issue #6: fresh path, pulls, pull-log cost (needs root)."""
    session.install("-e", ".", *_group("bench"))
    session.run("python", "benchmarks/run.py", *session.posargs)
