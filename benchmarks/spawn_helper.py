"""
Run one command and report its wall time, CPU time and peak RSS as JSON on stdout.

Why a helper: a child's ``ru_maxrss`` starts at the size of the process that
spawned it (the kernel records the spawner's memory when the child first
execs), so children of the harness, which holds docker-py and the samples,
would all report the harness's 50-odd MB. This helper runs with ``-I -S``
and imports almost nothing, so that floor is Python's own ~8 MB, below what
any measured Python program reaches, and well below the 40 MB target.

Usage: python -I -S spawn_helper.py TIMEOUT OUTPUT ARGV...
"""

import json
import os
import signal
import sys
import time


def main() -> int:
    timeout, output, argv = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, output, flags, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    started = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    # A child that overstays is killed; the harness sees the signal in the status.
    signal.signal(signal.SIGALRM, lambda *_: os.kill(pid, signal.SIGKILL))
    signal.setitimer(signal.ITIMER_REAL, timeout)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    signal.setitimer(signal.ITIMER_REAL, 0)
    # ru_maxrss is in KiB on Linux.
    cpu = usage.ru_utime + usage.ru_stime
    result = {"seconds": seconds, "cpu_seconds": cpu, "peak_rss_kib": usage.ru_maxrss, "status": status}
    sys.stdout.write(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
