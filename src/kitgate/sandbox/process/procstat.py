"""Scheduler accounting for the benchmark's attribution of an isolated job (Linux /proc).

WHY: on a loaded machine the wall time of a job crossing three processes is mostly spent waiting for a
CPU, not computing. `/proc/thread-self/schedstat` says how long this thread was runnable but not
running, so the timings can separate CPU cost from scheduling wait.
"""

from __future__ import annotations

import os


def run_delay_ms() -> float:
    """Total time this thread has spent waiting on a run queue, in ms (0.0 where unavailable)."""
    try:
        fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY)  # 3 syscalls, no buffered file object
        try:
            return int(os.read(fd, 256).split()[1]) / 1e6
        finally:
            os.close(fd)
    except (OSError, ValueError, IndexError):
        return 0.0
