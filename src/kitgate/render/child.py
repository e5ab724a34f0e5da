"""The render child: ``python -m kitgate.render.child``, one render per process, limits first.

Why a separate program: a scene built to exhaust memory or CPU, or to crash a C++ library, must cost only
this process. Before it reads its job it lowers its own limits (no core files, no files written at all,
CPU time, death with its parent); after the heavy imports it caps its address space at the budget above
what the imports took and arms a wall-clock alarm, so the render gets exactly ``time_s`` and ``memory_mb``.
It reads one JSON request on stdin and writes ``P`` + PNG bytes, or ``E`` + a RenderError as JSON, to the
stdout it was given (fd 1 is pointed at stderr meanwhile, so no library can corrupt the answer).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import math
import os
import resource
import signal
import sys

PR_SET_PDEATHSIG = 1


def _lower(kind: int, soft: int) -> None:
    _cur_soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(kind, (soft, soft))


def _vm_size() -> int:
    with open("/proc/self/status", "rb") as fh:
        for line in fh:
            if line.startswith(b"VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _early_limits(time_s: float, threads: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past RLIMIT_FSIZE fails with EFBIG, not a kill
    _lower(resource.RLIMIT_CORE, 0)
    _lower(resource.RLIMIT_FSIZE, 0)  # the render writes no file (Mesa's shader cache is off in its env)
    used = resource.getrusage(resource.RUSAGE_SELF)
    # CPU counts every thread (llvmpipe draws on `threads` of them); the wall-clock alarm is the real cap.
    cpu = int(used.ru_utime + used.ru_stime) + math.ceil(time_s * max(1, threads)) + 30
    _lower(resource.RLIMIT_CPU, cpu)


def _answer(out: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(out, view)
        view = view[n:]


def main() -> int:
    """Read the job, render it, answer. Exit status 0 whenever an answer was written."""
    job = json.loads(sys.stdin.buffer.read())
    limits_in = job["limits"]
    _early_limits(float(limits_in["time_s"]), int(job.get("threads", 1)))
    out = os.dup(1)
    os.dup2(2, 1)
    try:
        from kitgate.render.errors import RenderError
        from kitgate.render.types import RenderLimits, request_from_dict
    except ImportError as exc:  # pragma: no cover - a broken install
        _answer(out, b"E" + json.dumps({"code": "RendererUnavailable", "message": str(exc)}).encode())
        return 0
    try:
        from kitgate.render.engine import render_stage, warm_up
        from kitgate.render.layers import open_layer_text
        from kitgate.render.raster import create_context

        limits = RenderLimits.from_dict(limits_in)
        request = request_from_dict(job["request"])
        # pxr's thread pool and Mesa's context reserve ~1 GB of address space between them; both start
        # before the cap (pxr segfaults, not raises, when that reservation fails), so memory_mb is the scene's.
        context = create_context()
        warm_up()
        _lower(resource.RLIMIT_AS, _vm_size() + int(limits.memory_mb) * 1024 * 1024)
        signal.setitimer(signal.ITIMER_REAL, float(limits.time_s))  # SIGALRM's default action ends us
        stage = open_layer_text(job["layer_text"], job.get("asset_base"), job.get("anchor"))
        png = render_stage(stage, request, limits, context=context)
        signal.setitimer(signal.ITIMER_REAL, 0)
        _answer(out, b"P" + png)
    except RenderError as exc:
        _answer(out, b"E" + json.dumps(exc.to_dict()).encode())
    except MemoryError:
        err = RenderError("RenderOutOfMemory", "the render ran out of memory",
                          "render fewer or lighter prims, or ask the operator for a higher memory_mb")
        _answer(out, b"E" + json.dumps(err.to_dict()).encode())
    except ImportError as exc:
        err = RenderError("RendererUnavailable", f"the renderer does not import: {exc}",
                          "pip install 'kitgate[render]'")
        _answer(out, b"E" + json.dumps(err.to_dict()).encode())
    except Exception as exc:  # anything else: a failed render, never a crashed caller
        err = RenderError("RenderFailed", f"{type(exc).__name__}: {str(exc)[:500]}", "")
        _answer(out, b"E" + json.dumps(err.to_dict()).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
