"""Running one render in a child process, and turning however it ended into a PNG or a RenderError.

Why: the worker (the caller) must survive any scene. The child (child.py) caps its own CPU, address space,
file writes and wall-clock time; this side adds a hard wall-clock kill of the child's whole process group
(the backstop if the child hangs before its alarm is armed), hands it a scrubbed environment built from
constants (no secrets of the caller's), and maps exit signals to codes: SIGALRM/SIGXCPU/our kill are a
RenderTimeout, anything else that ends the child without an answer is a RenderFailed. The child's answer is
hostile input too: at most max_png_bytes (+ a little) of it is ever read into the caller's memory; a child
that writes more is killed (RenderTooLarge), since pipes are not bound by its RLIMIT_FSIZE.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import kitgate.render
from kitgate.render.errors import RenderError
from kitgate.render.types import RenderLimits, RenderRequest, asset_bases, check_request

STARTUP_GRACE_S = 30.0  # interpreter + pxr + moderngl import before the child's own alarm is armed
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIMEOUT_SIGNALS = {signal.SIGALRM, signal.SIGXCPU, signal.SIGKILL}
ANSWER_SLACK = 64 * 1024  # an error answer (JSON) or the PNG's 1-byte tag beyond max_png_bytes


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
    cap = int(limits.max_png_bytes) + ANSWER_SLACK
    try:
        out, killed, flooded = _exchange(proc, job, float(limits.time_s) + STARTUP_GRACE_S, cap)
    finally:
        if proc.poll() is None:
            _kill_group(proc)
            proc.wait()
        with contextlib.suppress(OSError):
            proc.stdout.close()  # type: ignore[union-attr]
    if flooded:
        raise RenderError("RenderTooLarge", f"the render process wrote more than {cap:,} bytes",
                          "ask for a smaller picture")
    return _outcome(out, proc.returncode, killed, limits)


def _exchange(proc: subprocess.Popen[bytes], job: bytes, timeout_s: float, cap: int) -> tuple[bytes, bool, bool]:
    """Feed `job` to the child's stdin (a thread: the child may not read it) and read its stdout, at most
    `cap` bytes, until EOF and exit or `timeout_s`. Returns (answer, timed out, over the cap); the caller
    kills the child's group whenever it is still running."""
    assert proc.stdin is not None and proc.stdout is not None
    stdin, fd = proc.stdin, proc.stdout.fileno()

    def feed() -> None:
        with contextlib.suppress(OSError, ValueError):
            stdin.write(job)
        with contextlib.suppress(OSError, ValueError):
            stdin.close()

    threading.Thread(target=feed, name="render-feed", daemon=True).start()
    deadline = time.monotonic() + timeout_s
    out = bytearray()
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _kill_group(proc)
                return bytes(out), True, False
            if not sel.select(remaining):
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            out += chunk
            if len(out) > cap:
                _kill_group(proc)
                return bytes(out[:cap]), False, True
    try:
        proc.wait(max(0.01, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:  # closed its stdout but lingers: the same as a hang
        _kill_group(proc)
        return bytes(out), True, False
    return bytes(out), False, False


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
