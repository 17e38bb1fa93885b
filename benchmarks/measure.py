"""
Timing and peak memory of one child process, and the statistics of many.

Each child runs under spawn_helper.py (see there why), which times it from
``posix_spawn`` to ``wait4`` and reads its own child's rusage. Linux carries
``ru_maxrss`` across ``exec``, so a ppack that has replaced itself with pack
still reports its own Python peak.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


HELPER = Path(__file__).resolve().with_name("spawn_helper.py")


class ChildFailed(RuntimeError):
    """A measured command did not exit 0 (its output is in the message)."""


class OutOfTime(RuntimeError):
    """The harness ran past its time budget."""


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_rss_mb: float | None
    output: str
    cpu_seconds: float | None = None


def run_child(argv: Sequence[str], env: Mapping[str, str], output: Path, timeout: float = 300.0) -> Sample:
    """Run ``argv`` (through the helper) with stdout and stderr in ``output``; fail unless it exits 0."""
    helper = [sys.executable, "-I", "-S", str(HELPER), str(timeout), str(output), *argv]
    done = subprocess.run(
        helper, env=dict(env), capture_output=True, text=True, timeout=timeout + 30, check=False
    )
    if done.returncode != 0:
        raise ChildFailed(f"the spawn helper failed for {' '.join(argv)}:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    text = output.read_text(errors="replace")
    status = int(result["status"])
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        raise OutOfTime(f"{' '.join(argv)} did not finish in {timeout:.0f} s")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise ChildFailed(f"{' '.join(argv)} exited {code}:\n{text[-2000:]}")
    return Sample(
        float(result["seconds"]), int(result["peak_rss_kib"]) / 1024, text, float(result["cpu_seconds"])
    )


@dataclass
class Series:
    """Samples of one variant, in the order they were taken."""

    name: str
    seconds: list[float] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)

    def add(self, sample: Sample, requests: int | None = None) -> None:
        self.seconds.append(sample.seconds)
        if sample.peak_rss_mb is not None:
            self.peak_rss_mb.append(sample.peak_rss_mb)
        if sample.cpu_seconds is not None:
            self.cpu_seconds.append(sample.cpu_seconds)
        if requests is not None:
            self.requests.append(requests)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def summary(self) -> dict[str, object]:
        data: dict[str, object] = {
            "runs": len(self.seconds),
            "median_s": self.median,
            "min_s": min(self.seconds),
            "max_s": max(self.seconds),
            "seconds": self.seconds,
            "peak_rss_mb_max": max(self.peak_rss_mb) if self.peak_rss_mb else None,
            "peak_rss_mb_median": statistics.median(self.peak_rss_mb) if self.peak_rss_mb else None,
        }
        if self.cpu_seconds:
            data["cpu_median_s"] = statistics.median(self.cpu_seconds)
        if self.requests:
            data["registry_requests_per_run"] = statistics.median(self.requests)
            data["registry_requests_total"] = sum(self.requests)
        return data


class Budget:
    """The harness stops by itself: every loop asks before each round."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def check(self, what: str) -> None:
        if time.monotonic() > self.deadline:
            raise OutOfTime(f"time budget spent before {what}; rerun with --quick or a larger --budget")

    def remaining(self) -> float:
        return max(1.0, self.deadline - time.monotonic())


def cpu_busy(window: float) -> float:
    """Fraction of all CPUs busy over ``window`` seconds (from /proc/stat)."""
    before = _cpu_jiffies()
    time.sleep(window)
    after = _cpu_jiffies()
    total = after[0] - before[0]
    return 0.0 if total <= 0 else 1 - (after[1] - before[1]) / total


def _cpu_jiffies() -> tuple[int, int]:
    """(total, idle incl. iowait) of the aggregate ``cpu`` line."""
    with Path("/proc/stat").open() as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    return sum(fields), fields[3] + fields[4]


class Quiet:
    """
    Waits, within a bounded allowance, for other work on the machine to pause.

    These machines are shared (other test suites run beside the benchmark), and a
    60 ms child on 2 CPUs measures the neighbours as much as itself. Each round
    starts once the CPUs are mostly idle, or after ``per_round`` seconds anyway;
    the total wait is capped too, and what was seen is reported, not hidden.
    """

    WINDOW = 0.25

    def __init__(self, threshold: float, per_round: float, total: float) -> None:
        self.threshold = threshold
        self.per_round = per_round
        self.allowance = total
        self.waited = 0.0
        self.busy: list[float] = []

    def wait(self) -> None:
        if self.allowance <= 0:
            return
        started = time.monotonic()
        busy = cpu_busy(self.WINDOW)
        while busy > self.threshold and time.monotonic() - started < min(self.per_round, self.allowance):
            busy = cpu_busy(self.WINDOW)
        spent = time.monotonic() - started
        self.allowance -= spent
        self.waited += spent
        self.busy.append(busy)


@dataclass
class Pace:
    """How the rounds are paced: the time budget, and waiting for a quiet machine."""

    budget: Budget
    quiet: Quiet

    def next_round(self, what: str) -> None:
        self.budget.check(what)
        self.quiet.wait()
