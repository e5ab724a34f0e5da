"""Kernel-enforced limits for one disposable job child (Linux; POSIX `resource`).

WHY: a single C call (`10**(10**9)`, `'A' * 10**10`, `Vt.Vec3fArray(4e8)`) never returns to the
interpreter, so only the kernel can stop it. These run in the child right after fork, before any
untrusted code, and can only be lowered afterwards.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
from dataclasses import dataclass
from typing import Any

FSIZE_BYTES = 16 * 1024 * 1024  # largest file a job may write (scratch only; asset roots are guarded)
NOFILE = 64  # enough for pxr's lazily opened plugin files and a few layers
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ChildLimits:
    """What the child is allowed: derived from the policy's Limits by the fork server."""

    cpu_s: int
    address_space_bytes: int
    fsize_bytes: int = FSIZE_BYTES
    nofile: int = NOFILE


def current_address_space() -> int:
    """VmSize of this process in bytes: the warm baseline every child inherits through fork.
    (/proc/self/statm's first field, in pages: one read, no line parsing on the job's path.)"""
    try:
        fd = os.open("/proc/self/statm", os.O_RDONLY)
        try:
            return int(os.read(fd, 256).split()[0]) * resource.getpagesize()
        finally:
            os.close(fd)
    except (OSError, ValueError, IndexError):
        return 0


def address_space_for(memory_mb: int, baseline: int) -> int:
    """RLIMIT_AS counts the inherited mappings (pxr alone is ~550 MB of VmSize), so the policy's
    memory_mb is a budget *above* the warm baseline."""
    return baseline + max(1, int(memory_mb)) * 1024 * 1024


def _set(kind: int, soft: int, hard: int | None = None) -> None:
    cur_soft, cur_hard = resource.getrlimit(kind)
    hard = soft if hard is None else hard
    if cur_hard != resource.RLIM_INFINITY:
        hard = min(hard, cur_hard)
        soft = min(soft, hard)
    resource.setrlimit(kind, (soft, hard))


def apply_base_limits(limits: ChildLimits) -> None:
    """The limits that do not depend on the job: set right after fork, before anything else runs (a
    pre-forked spare child waits for its job with these already in force)."""
    _set(resource.RLIMIT_FSIZE, limits.fsize_bytes)
    _set(resource.RLIMIT_NOFILE, limits.nofile)
    _set(resource.RLIMIT_CORE, 0)
    # RLIMIT_NPROC counts every process of the real uid, so 0 forbids fork/threads for an unprivileged
    # user. The kernel ignores it for root (CAP_SYS_RESOURCE/CAP_SYS_ADMIN); SECURITY.md says so.
    if os.geteuid() != 0:
        _set(resource.RLIMIT_NPROC, 0)


def apply_job_limits(limits: ChildLimits) -> None:
    """CPU and address space, set when the job is known and before any of its code runs.

    RLIMIT_CPU counts the process's whole life, so CPU a spare child spent before its job (warming up,
    a few ms) is added in whole seconds only: the job never gets more than the policy's cpu_s."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = max(1, int(limits.cpu_s)) + int(usage.ru_utime + usage.ru_stime)
    # SIGXCPU at the soft limit, SIGKILL one second later if the signal is ignored.
    _set(resource.RLIMIT_CPU, cpu, cpu + 1)
    _set(resource.RLIMIT_AS, limits.address_space_bytes)


def apply_child_limits(limits: ChildLimits) -> None:
    """Lower every limit; raises OSError if the kernel refuses (the child then exits without running)."""
    apply_base_limits(limits)
    apply_job_limits(limits)


_PRCTL: list[Any] = []  # libc's prctl, looked up once in the fork server (prepare()), inherited by every child


def prepare() -> None:
    """Load libc and look prctl() up before forking, so a child pays neither a dlopen() nor a symbol
    lookup (nor the copy-on-write faults of building the ctypes function) on its way to the job."""
    if not _PRCTL:
        with contextlib.suppress(OSError, AttributeError):
            prctl = ctypes.CDLL(None, use_errno=True).prctl
            prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
            prctl.restype = ctypes.c_int
            _PRCTL.append(prctl)


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this child when the fork server dies (no orphans after a crash)."""
    prepare()
    with contextlib.suppress(IndexError):
        _PRCTL[0](PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
