"""Running one render in a child process, and turning however it ended into a PNG or a RenderError.

Why: the worker (the caller) must survive any scene. The child (child.py) caps its own CPU, address space,
file writes and wall-clock time; this side adds a hard wall-clock kill of the child's whole process group
(the backstop if the child hangs before its alarm is armed), hands it a scrubbed environment built from
constants (no secrets of the caller's), and maps exit signals to codes: SIGALRM/SIGXCPU/our kill are a
RenderTimeout, anything else that ends the child without an answer is a RenderFailed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import kitgate.render
from kitgate.render.errors import RenderError
from kitgate.render.types import RenderLimits, RenderRequest, asset_bases, check_request

STARTUP_GRACE_S = 30.0  # interpreter + pxr + moderngl import before the child's own alarm is armed
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIMEOUT_SIGNALS = {signal.SIGALRM, signal.SIGXCPU, signal.SIGKILL}


def _threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def child_environment() -> dict[str, str]:
    """The child's whole environment: constants and the caller's import path, nothing inherited."""
    src = str(Path(kitgate.render.__file__).resolve().parents[2])
    paths = [src] + [p for p in sys.path if p and p != src and os.path.isdir(p)]
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join(paths),
        "PYTHONDONTWRITEBYTECODE": "1",
        "EGL_PLATFORM": "surfaceless",  # Mesa: an offscreen EGL display, no X or Wayland
        "MESA_SHADER_CACHE_DISABLE": "true",  # no files written (the child's RLIMIT_FSIZE is 0)
        "LP_NUM_THREADS": str(_threads()),  # llvmpipe's rasteriser threads
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "LC_ALL": "C.UTF-8",
    }


def render_in_child(layer_text: str, request: RenderRequest, limits: RenderLimits, *,
                    asset_base: Path | str | Sequence[Path | str] | None = None, anchor: str | None = None) -> bytes:
    """The PNG of the stage whose root layer is ``layer_text``, drawn by a capped child process."""
    check_request(request, limits)
    if not isinstance(layer_text, str):
        raise RenderError("BadRequest", "layer_text must be usda text (str)")
    job = json.dumps({
        "layer_text": layer_text,
        "request": {"width": request.width, "height": request.height, "camera": request.camera},
        "limits": limits.to_dict(),
        "asset_base": list(asset_bases(asset_base)),
        "anchor": anchor,
        "threads": _threads(),
    }).encode("utf-8")
    try:
        proc = subprocess.Popen([sys.executable, "-B", "-m", "kitgate.render.child"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=child_environment(), cwd="/",
                                close_fds=True, start_new_session=True)
    except OSError as exc:  # no interpreter to start (an embedded Python), or no processes left
        raise RenderError("RendererUnavailable", f"the render process did not start: {exc.strerror or exc}",
                          "render from a worker whose Python can start `python -m kitgate.render.child`") from exc
    killed = False
    try:
        out, _ = proc.communicate(job, timeout=float(limits.time_s) + STARTUP_GRACE_S)
    except subprocess.TimeoutExpired:
        killed = True
        _kill_group(proc)
        out, _ = proc.communicate()
    finally:
        if proc.poll() is None:
            _kill_group(proc)
            proc.wait()
    return _outcome(out or b"", proc.returncode, killed, limits)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _outcome(out: bytes, returncode: int, killed: bool, limits: RenderLimits) -> bytes:
    if out[:1] == b"P" and out[1:9] == PNG_SIGNATURE:
        if len(out) - 1 > limits.max_png_bytes:
            raise RenderError("RenderTooLarge", "the PNG is over max_png_bytes", "ask for a smaller picture")
        return out[1:]
    if out[:1] == b"E":
        try:
            return _raise(RenderError.from_dict(json.loads(out[1:].decode("utf-8"))))
        except (ValueError, UnicodeDecodeError):
            pass
    time_hint = "render fewer or lighter prims, or ask the operator for a higher time_s"
    if killed or (returncode < 0 and -returncode in TIMEOUT_SIGNALS):
        raise RenderError("RenderTimeout", f"the render took longer than its limit of {limits.time_s:g} s", time_hint)
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.Signals._value2member_map_ else -returncode
        raise RenderError("RenderFailed", f"the render process died ({name})",
                          "often its memory limit: render fewer or lighter prims, or ask for a higher memory_mb")
    raise RenderError("RenderFailed", f"the render process exited with status {returncode} and no picture",
                      "check that `python -m kitgate.render.child` runs in this environment")


def _raise(err: RenderError) -> bytes:
    raise err
