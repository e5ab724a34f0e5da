"""Pictures in Kit: the job's `render` request answered by Kit's own viewport capture, on the main thread.

Why Kit's capture and not kitgate.render: inside Kit the stage is already drawn by Kit's renderer (RTX or
Storm), with its materials and lights; the picture an operator expects is what the viewport shows. So the
binding asks Kit, through the documented API only:

- `omni.kit.viewport.utility.get_active_viewport()` -> the ViewportAPI (None in an app without a viewport:
  a service app, `--no-window` without a viewport extension); then no picture, `RendererUnavailable`;
- for the request it sets the viewport's `resolution` (the asked width x height) and, when a camera is
  named, its `camera_path` (ViewportAPI properties, omni.kit.widget.viewport docs), and puts both back
  when the capture is done, failed or timed out;
- `capture_viewport_to_file(viewport_api, file_path=...)` returns a helper whose `wait_for_result()` is
  awaited for the list of AOVs written (empty: nothing was written), per the utility's usage example and
  the FileCapture docs; the coroutine runs on Kit's main-thread loop via
  `omni.kit.async_engine.run_coroutine` (from the main thread it returns a Task), so nothing blocks a frame.

The capture finishes on a later frame: `take()` returns a `ViewportCapture` (worker/picture.py's
PendingPicture) that `Execution.poll()` checks once per tick. The file is written into a private scratch
directory, read back capped at the policy's `max_png_bytes`, checked to be a PNG of the asked size, and
deleted. Every failure is a `render` error entry; the job's own result stands.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from kitgate.protocol import render as wire

HINT_NO_VIEWPORT = ("open a Viewport window in this Kit app (omni.kit.viewport.window), or send the job to a "
                    "headless worker, which draws pictures itself")


class ViewportCapture:
    """A capture Kit is taking; `done()` on each tick, then `entry()` once (restores the viewport)."""

    def __init__(self, task: Any, path: Path, scratch: Path, ask: dict[str, Any], limits: Any,
                 restore: list[tuple[str, Any]], viewport: Any) -> None:
        self._task = task
        self._path = path
        self._scratch = scratch
        self._ask = ask
        self._limits = limits
        self._restore = restore
        self._viewport = viewport
        self._started = time.monotonic()
        self._deadline = self._started + float(limits.time_s)

    def done(self) -> bool:
        return bool(self._task.done()) or time.monotonic() >= self._deadline

    def entry(self) -> dict[str, Any]:
        try:
            return self._entry()
        finally:
            self._put_back()
            shutil.rmtree(self._scratch, ignore_errors=True)

    def _entry(self) -> dict[str, Any]:
        if not self._task.done():
            with contextlib.suppress(Exception):
                self._task.cancel()
            return wire.error("RenderTimeout", f"Kit's viewport capture did not finish within "
                                               f"{self._limits.time_s:g} s", "try again, or ask for a smaller picture")
        try:
            written = self._task.result()
        except Exception as exc:  # noqa: BLE001 - Kit's capture failing is a render error, never a job error
            return wire.error("RenderFailed", f"Kit's viewport capture failed: {type(exc).__name__}: {exc}"[:2000])
        if not written or not self._path.is_file():
            return wire.error("RenderFailed", "Kit's viewport capture wrote no image",
                              "check that the viewport renders (a renderer is loaded and the stage is open)")
        cap = min(int(self._limits.max_png_bytes), wire.MAX_IMAGE_BYTES)
        size = self._path.stat().st_size
        if size > cap:
            return wire.error(wire.IMAGE_TOO_LARGE, f"the picture is {size:,} bytes, over the limit of {cap:,} bytes",
                              "ask for a smaller width/height; the job's scene change itself was applied")
        with open(self._path, "rb") as fh:
            png = fh.read(cap + 1)
        got = wire.png_size(png)
        if got is None:
            return wire.error("RenderFailed", "Kit's viewport capture did not write a PNG")
        if got != (self._ask["width"], self._ask["height"]):
            return wire.error("RenderFailed", f"the viewport captured {got[0]}x{got[1]}, not the asked "
                                              f"{self._ask['width']}x{self._ask['height']}",
                              "the viewport may not follow resolution changes (fill_frame); ask for its own size")
        return wire.success(png, (time.monotonic() - self._started) * 1000.0, cap)

    def _put_back(self) -> None:
        for name, value in reversed(self._restore):
            with contextlib.suppress(Exception):
                setattr(self._viewport, name, value)
        self._restore = []


def take(stage: Any, ask: dict[str, Any], limits: Any) -> dict[str, Any] | ViewportCapture:
    """Start a capture of the active viewport for `ask` (main thread); an entry when it cannot start."""
    try:
        import omni.kit.async_engine as async_engine
        import omni.kit.viewport.utility as vp_utility
    except ImportError as exc:
        return wire.error("RendererUnavailable", f"this Kit app has no viewport capture ({exc.name} is not loaded)",
                          HINT_NO_VIEWPORT)
    viewport = vp_utility.get_active_viewport()
    if viewport is None:
        return wire.error("RendererUnavailable", "this Kit app has no active viewport", HINT_NO_VIEWPORT)
    camera = ask.get("camera")
    if camera is not None:
        from pxr import UsdGeom

        prim = stage.GetPrimAtPath(camera)
        if not prim or not prim.IsA(UsdGeom.Camera):
            return wire.error("BadCamera", f"{camera} is not a UsdGeom.Camera on the job's stage",
                              "name a Camera prim, or leave camera out to capture the viewport's own view")
    restore: list[tuple[str, Any]] = []
    scratch = Path(tempfile.mkdtemp(prefix="kitgate-capture-"))  # 0700: nobody else reads the picture
    path = scratch / "capture.png"
    try:
        restore.append(("resolution", viewport.resolution))
        viewport.resolution = (ask["width"], ask["height"])
        if camera is not None:
            restore.append(("camera_path", viewport.camera_path))
            viewport.camera_path = camera
        helper = vp_utility.capture_viewport_to_file(viewport, file_path=os.fspath(path))
        task = async_engine.run_coroutine(helper.wait_for_result())
    except Exception as exc:  # noqa: BLE001
        for name, value in reversed(restore):
            with contextlib.suppress(Exception):
                setattr(viewport, name, value)
        shutil.rmtree(scratch, ignore_errors=True)
        return wire.error("RenderFailed", f"Kit's viewport capture could not start: {type(exc).__name__}: {exc}"[:2000])
    return ViewportCapture(task, path, scratch, ask, limits, restore, viewport)
