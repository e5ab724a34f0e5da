"""Pictures in Kit: a job's `render` answered by the viewport capture API, against the Kit stand-ins.

The binding uses only documented calls (omni.kit.viewport.utility.get_active_viewport /
capture_viewport_to_file, ViewportAPI.resolution / camera_path, omni.kit.async_engine.run_coroutine); the
stand-ins implement exactly those signatures and their documented failure paths (see each stand-in's
docstring). Real controller, real sandbox; the test thread plays Kit's main thread.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

from .conftest import submit, wait_job
from .test_kit_binding import _configure, _pump

CAMERA_JOB = ("from pxr import UsdGeom, Gf\nUsdGeom.Camera.Define(stage, '/World/Cam')\n"
              "UsdGeom.Cube.Define(stage, '/World/Box')\n")


def _job(operator: httpx.Client, code: str, render: dict) -> dict[str, Any]:
    return wait_job(operator, submit(operator, code, labels=["kit"], render=render), pump=_pump)


def test_kit_capture_of_a_job_through_the_viewport(kit_modules: dict[str, Any], ctl: Any, worker_token_file: Path,
                                                   operator: httpx.Client, tmp_path: Path) -> None:
    import omni.kit.viewport.utility as vpu
    import omni.usd
    from pxr import Usd

    _configure(ctl, worker_token_file, tmp_path / "state")
    stage = Usd.Stage.CreateInMemory()
    omni.usd.get_context().standin_open(stage)
    ext = kit_modules["ext"].KitgateExecutorExtension()
    ext.on_startup("kitgate.executor-0.1.0")
    try:
        # no viewport in this app: the job stands, the picture says why and what to do instead
        job = _job(operator, CAMERA_JOB, {"width": 64, "height": 48})
        assert job["status"] == "succeeded", job
        picture = job["result"]["render"]
        assert picture["ok"] is False and picture["error"]["code"] == "RendererUnavailable"
        assert "headless worker" in picture["error"]["hint"]

        # a viewport: captured at the asked size through the named camera, then put back as it was
        viewport = vpu.standin_set_viewport((1280, 720))
        job = _job(operator, "result = 1\n", {"width": 320, "height": 200, "camera": "/World/Cam"})
        assert job["status"] == "succeeded", job
        picture = job["result"]["render"]
        assert picture["ok"] is True and (picture["width"], picture["height"]) == (320, 200), picture
        seen = vpu.standin_captures()[-1].seen
        assert seen == {"resolution": (320, 200), "camera_path": "/World/Cam"}
        assert viewport.resolution == (1280, 720) and str(viewport.camera_path) == "/OmniverseKit_Persp"
        r = operator.get(f"/v1/jobs/{job['id']}/image")
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert r.content[:8] == b"\x89PNG\r\n\x1a\n" and len(r.content) == picture["bytes"]
        assert {tid for _, tid in omni.usd.ACCESS_THREADS} == {__import__("threading").get_ident()}

        # a camera that is not a camera, and a capture Kit reports as not written
        job = _job(operator, "result = 2\n", {"width": 64, "height": 64, "camera": "/World/Box"})
        assert job["result"]["render"]["error"]["code"] == "BadCamera"
        vpu.standin_fail_captures()
        job = _job(operator, "result = 3\n", {"width": 64, "height": 64})
        assert job["status"] == "succeeded"
        assert job["result"]["render"]["error"]["code"] == "RenderFailed"
        assert "wrote no image" in job["result"]["render"]["error"]["message"]
        assert viewport.resolution == (1280, 720)
    finally:
        ext.on_shutdown()


def test_kit_capture_that_never_finishes_times_out_and_restores(kit_modules: dict[str, Any]) -> None:
    import omni.kit.viewport.utility as vpu
    from pxr import Usd

    from kitgate.executor.capture import take

    viewport = vpu.standin_set_viewport((800, 600))
    vpu.standin_hang_captures()
    caps = SimpleNamespace(time_s=0.2, max_png_bytes=1 << 20)
    pending = take(Usd.Stage.CreateInMemory(), {"width": 100, "height": 80, "camera": None}, caps)
    assert not isinstance(pending, dict)
    assert viewport.resolution == (100, 80)  # asked size while the capture runs
    deadline = time.monotonic() + 10
    while not pending.done():
        assert time.monotonic() < deadline
        _pump()
    entry = pending.entry()
    assert entry["ok"] is False and entry["error"]["code"] == "RenderTimeout"
    assert viewport.resolution == (800, 600)


def test_kit_capture_over_the_size_cap_is_refused(kit_modules: dict[str, Any]) -> None:
    import omni.kit.viewport.utility as vpu
    from pxr import Usd

    from kitgate.executor.capture import take

    vpu.standin_set_viewport((640, 480))
    pending = take(Usd.Stage.CreateInMemory(), {"width": 300, "height": 300, "camera": None},
                   SimpleNamespace(time_s=5.0, max_png_bytes=64))
    while not pending.done():
        _pump()
    entry = pending.entry()
    assert entry["ok"] is False and entry["error"]["code"] == "ImageTooLarge"
