"""Pictures end to end: a real controller, a real headless worker, the real renderer (kitgate.render).

A job asks for `render: {camera?, width, height}`; the worker draws the stage after applying the job's
change, the result carries the PNG, the controller stores it beside the job and serves it at
GET /v1/jobs/{id}/image with the job's own visibility. The pixels are looked at with Pillow (an independent
decoder): the picture has the asked size, is not blank, and shows the red cube left of the blue sphere,
and the other way round after a job swaps them.

New input surfaces get attack tests: sizes over the policy's caps (422 at submit, nothing queued), a PNG
over the worker policy's size cap, and forged worker reports (not a PNG, wrong size, too large, a picture
for a job that asked for none), which the controller refuses into a render error, never into a stored image.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from harness import FAST_ENV, KITGATE, ControllerProcess, HttpWorker, clean_env
from PIL import Image
from worker_harness import WorkerProcess

POLICIES = Path(__file__).resolve().parents[2] / "src" / "kitgate" / "policies"
# A scene-edit overlay whose pictures may be at most 1 KiB: any real picture is over it.
TINY_PICTURES = '''name = "tinypic"
extends = "scene-edit"
description = "scene-edit whose pictures may be at most 1024 bytes (tests)."

[render]
max_png_bytes = 1024
'''
SCENE = """from pxr import UsdGeom, Gf
UsdGeom.Xform.Define(stage, "/World")
cube = UsdGeom.Cube.Define(stage, "/World/Red")
cube.AddTranslateOp().Set(Gf.Vec3d({cube_x}, 0, 0))
cube.CreateDisplayColorAttr([Gf.Vec3f(1, 0, 0)])
ball = UsdGeom.Sphere.Define(stage, "/World/Blue")
ball.AddTranslateOp().Set(Gf.Vec3d({ball_x}, 0, 0))
ball.CreateDisplayColorAttr([Gf.Vec3f(0, 0, 1)])
"""
SWAP = """from pxr import UsdGeom, Gf
UsdGeom.Xformable(stage.GetPrimAtPath("/World/Red")).GetOrderedXformOps()[0].Set(Gf.Vec3d(1.6, 0, 0))
UsdGeom.Xformable(stage.GetPrimAtPath("/World/Blue")).GetOrderedXformOps()[0].Set(Gf.Vec3d(-1.6, 0, 0))
"""


@dataclass
class Rig:
    controller: ControllerProcess
    worker: WorkerProcess
    agent: str  # jobs:submit + jobs:read
    other: str  # jobs:read of another owner
    worker_token: str
    agent_file: Path
    base: Path

    def client(self, token: str | None = None) -> httpx.Client:
        return self.controller.client(token or self.agent, timeout=120)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    base = tmp_path_factory.mktemp("render-e2e")
    policy_dir = base / "policies"
    policy_dir.mkdir()
    for name in ("readonly", "scene-edit", "trusted"):
        shutil.copy(POLICIES / f"{name}.toml", policy_dir / f"{name}.toml")
    (policy_dir / "tinypic.toml").write_text(TINY_PICTURES)
    ctl = ControllerProcess(base / "ctl", env={**FAST_ENV, "KITGATE_POLICY_DIR": str(policy_dir)})
    try:
        files = {}
        for name, scopes in (("agent", ("jobs:submit", "jobs:read")), ("worker", ("worker",))):
            files[name] = base / f"{name}.token"
            files[name].write_text(ctl.mint_token(*scopes) + "\n")
            files[name].chmod(0o600)
        other = ctl.mint_token("jobs:read")
        worker = WorkerProcess(ctl.url, files["worker"], base / "scene.usda", save=True,
                               extra_args=["--policy-dir", str(policy_dir)])
        try:
            yield Rig(ctl, worker, files["agent"].read_text().strip(), other,
                      files["worker"].read_text().strip(), files["agent"], base)
        finally:
            worker.stop()
    finally:
        ctl.stop()


def _submit(rig: Rig, code: str, render: dict | None = None, policy: str = "scene-edit", **extra: object) -> dict:
    body: dict = {"code": code, "policy": policy, "wait_s": 90, **extra}
    if render is not None:
        body["render"] = render
    with rig.client() as c:
        r = c.post("/v1/jobs", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _centroid_x(img: Image.Image, want: str) -> float:
    """Mean x of the pixels that are clearly red (want='r') or clearly blue (want='b')."""
    rgb = img.convert("RGB")
    xs = [x for y in range(rgb.height) for x in range(rgb.width)
          if _is(rgb.getpixel((x, y)), want)]
    assert len(xs) > 50, f"too few {want} pixels: {len(xs)}"
    return sum(xs) / len(xs)


def _is(px: tuple[int, int, int], want: str) -> bool:
    r, g, b = px
    return r > 90 and r > 2 * g and r > 2 * b if want == "r" else b > 90 and b > 2 * r and b > 2 * g


def test_picture_of_the_result_is_a_png_of_the_asked_size_showing_the_scene(rig: Rig) -> None:
    job = _submit(rig, SCENE.format(cube_x=-1.6, ball_x=1.6), {"width": 192, "height": 128})
    assert job["status"] == "succeeded", job
    assert job["render"] == {"width": 192, "height": 128, "camera": None}
    picture = job["result"]["render"]
    assert picture["ok"] is True and (picture["width"], picture["height"]) == (192, 128), picture["error"]
    assert picture["png_base64"] is None  # the bytes live beside the job, not in its JSON
    with rig.client() as c:
        r = c.get(f"/v1/jobs/{job['id']}/image")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "image/png"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"].startswith("private")
        assert len(r.content) == picture["bytes"]
        again = c.get(f"/v1/jobs/{job['id']}/image", headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
    img = Image.open(io.BytesIO(r.content))
    img.load()
    assert img.size == (192, 128)
    colors = img.convert("RGB").getcolors(1 << 20)
    assert colors is not None and len(colors) > 20, "the picture is blank"
    assert _centroid_x(img, "r") < _centroid_x(img, "b")  # the red cube is left of the blue sphere

    swapped = _submit(rig, SWAP, {"width": 192, "height": 128})
    assert swapped["status"] == "succeeded" and swapped["result"]["render"]["ok"], swapped
    assert swapped["result"]["render"]["sha256"] != picture["sha256"]
    with rig.client() as c:
        img2 = Image.open(io.BytesIO(c.get(f"/v1/jobs/{swapped['id']}/image").content))
    assert _centroid_x(img2, "r") > _centroid_x(img2, "b")  # the picture follows the scene


@pytest.mark.parametrize(("render", "code"), [
    ({"width": 2048, "height": 64}, "render_too_large"),   # wider than the policy's 1024
    ({"width": 1024, "height": 1024 + 1}, "render_too_large"),
])
def test_over_the_policy_caps_is_refused_at_submit(rig: Rig, render: dict, code: str) -> None:
    with rig.client() as c:
        before = len(c.get("/v1/jobs", params={"limit": 500}).json()["jobs"])
        r = c.post("/v1/jobs", json={"code": "x = 1\n", "policy": "scene-edit", "render": render})
        after = len(c.get("/v1/jobs", params={"limit": 500}).json()["jobs"])
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == code and "ask for at most" in err["details"]["hint"]
    assert err["details"]["caps"]["max_width"] == 1024
    assert before == after  # nothing was queued


@pytest.mark.parametrize("render", [
    {"width": 0, "height": 64}, {"width": 64, "height": 9000}, {"width": 64.5, "height": 64},
    {"width": 64, "height": 64, "camera": "../../etc/passwd"}, {"width": 64, "height": 64, "camera": "/A/B.attr"},
    {"width": 64, "height": 64, "extra": 1},
])
def test_malformed_render_requests_are_422(rig: Rig, render: dict) -> None:
    with rig.client() as c:
        r = c.post("/v1/jobs", json={"code": "x = 1\n", "render": render})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"


def test_a_job_without_render_has_no_image(rig: Rig) -> None:
    job = _submit(rig, "result = 1\n", policy="readonly")
    assert job["status"] == "succeeded" and job["render"] is None
    assert job["result"].get("render") is None
    with rig.client() as c:
        r = c.get(f"/v1/jobs/{job['id']}/image")
    assert r.status_code == 404
    err = r.json()["error"]
    assert err["code"] == "image_not_found" and "did not ask for a picture" in err["message"]
    assert '"render"' in err["details"]["hint"]


def test_another_owner_cannot_fetch_the_picture(rig: Rig) -> None:
    job = _submit(rig, "result = 2\n", {"width": 64, "height": 64}, policy="readonly")
    assert job["result"]["render"]["ok"], job
    with rig.client(rig.other) as c:
        r = c.get(f"/v1/jobs/{job['id']}/image")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"  # same as a missing job
    with rig.controller.admin() as c:
        assert c.get(f"/v1/jobs/{job['id']}/image").status_code == 200
    with httpx.Client(base_url=rig.controller.url) as anon:
        assert anon.get(f"/v1/jobs/{job['id']}/image").status_code == 401


def test_a_picture_over_the_worker_policy_size_is_refused_but_the_job_stands(rig: Rig) -> None:
    job = _submit(rig, "from pxr import UsdGeom\nUsdGeom.Cube.Define(stage, '/World/Tiny')\n",
                  {"width": 256, "height": 256}, policy="tinypic")
    assert job["status"] == "succeeded", job  # the scene change is applied
    assert "/World/Tiny" in job["result"]["changed_prims"]
    picture = job["result"]["render"]
    assert picture["ok"] is False and picture["error"]["code"] in ("RenderTooLarge", "ImageTooLarge"), picture
    assert "1,024" in picture["error"]["message"]
    with rig.client() as c:
        r = c.get(f"/v1/jobs/{job['id']}/image")
    assert r.status_code == 404
    assert picture["error"]["code"] in r.json()["error"]["message"]


def test_a_camera_that_is_not_a_camera_is_a_render_error(rig: Rig) -> None:
    job = _submit(rig, "result = 3\n", {"width": 64, "height": 64, "camera": "/World/Red"}, policy="readonly")
    assert job["status"] == "succeeded"
    assert job["result"]["render"]["error"]["code"] == "BadCamera", job["result"]["render"]


def _png(width: int, height: int, pad: int = 0) -> bytes:
    """A valid-looking PNG of the given size (for forged reports); `pad` bytes of an ancillary chunk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\x00" * width * 3 for _ in range(height))
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw))
    if pad:
        body += chunk(b"teXt", b"x" * pad)
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


@pytest.mark.parametrize(("png", "asked", "code"), [
    (b"GIF89a not a png at all", True, "BadImage"),
    (_png(32, 32), True, "BadImage"),  # the job asked for 64x64
    (_png(64, 64, pad=600_000), True, "ImageTooLarge"),  # over KITGATE_MAX_IMAGE_BYTES (512 KiB)
    (_png(64, 64), False, "BadImage"),  # the job asked for no picture
])
def test_forged_worker_pictures_are_refused_into_a_render_error(rig: Rig, png: bytes, asked: bool, code: str) -> None:
    """A worker (the real one takes only unlabelled jobs) reports a picture the controller must not store."""
    body: dict = {"code": "result = 4\n", "policy": "readonly", "labels": ["by-hand"]}
    if asked:
        body["render"] = {"width": 64, "height": 64}
    with rig.client() as c:
        job = c.post("/v1/jobs", json=body).json()
    hand = HttpWorker(rig.controller, rig.worker_token, worker_id="forger", labels=["by-hand"])
    try:
        claim = hand.claim(wait_s=5)
        assert claim is not None and claim["job_id"] == job["id"]
        entry = {"ok": True, "width": 64, "height": 64, "bytes": len(png),
                 "png_base64": base64.b64encode(png).decode("ascii")}
        r = hand.report(claim, "succeeded", render=entry)
        assert r.status_code == 200, r.text
        stored = r.json()["result"]["render"]
        assert stored["ok"] is False and stored["error"]["code"] == code, stored
    finally:
        hand.close()
    with rig.client() as c:
        r = c.get(f"/v1/jobs/{job['id']}/image")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "image_not_found"


def test_cli_submit_render_writes_the_png(rig: Rig, tmp_path: Path) -> None:
    script = tmp_path / "look.py"
    script.write_text("result = 5\n")
    out = tmp_path / "shots" / "out.png"
    env = clean_env({"KITGATE_URL": rig.controller.url, "KITGATE_TOKEN_FILE": str(rig.agent_file)})
    proc = subprocess.run([KITGATE, "submit", str(script), "--policy", "readonly", "--render", str(out),
                           "--size", "96x64"], env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"picture written to {out}" in proc.stderr
    img = Image.open(out)
    assert img.format == "PNG" and img.size == (96, 64)
    assert not [p for p in os.listdir(out.parent) if p.startswith(".")]  # no temp file left behind
    bad = subprocess.run([KITGATE, "submit", str(script), "--render", str(tmp_path / "x.png"), "--size", "big"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "512x512" in bad.stderr
    refused = subprocess.run([KITGATE, "submit", str(script), "--render", str(tmp_path / "y.png"),
                              "--size", "4000x4000"], env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "4000x4000" in refused.stderr and not (tmp_path / "y.png").exists()


BOMB = """from pxr import UsdGeom, Vt, Gf
bomb = UsdGeom.PointInstancer.Define(stage, "/Bomb")
UsdGeom.Cube.Define(stage, "/Bomb/Proto")
bomb.CreatePrototypesRel().SetTargets(["/Bomb/Proto"])
bomb.CreateProtoIndicesAttr(Vt.IntArray(60000))
bomb.CreatePositionsAttr(Vt.Vec3fArray(60000))
nan = UsdGeom.Xform.Define(stage, "/Nan")
nan.AddTranslateOp().Set(Gf.Vec3d(float("nan"), 0, 0))
UsdGeom.Sphere.Define(stage, "/Nan/Ball")
"""


def test_a_renderer_bomb_is_a_render_error_and_the_worker_goes_on(rig: Rig) -> None:
    """60,000 instances (over the policy's max_instances) and a NaN transform: the picture hits a limit with a
    clear error, the job's change stands, and the same worker draws the next picture."""
    job = _submit(rig, BOMB, {"width": 128, "height": 128})
    assert job["status"] == "succeeded", job
    picture = job["result"]["render"]
    assert picture["ok"] is False and picture["error"]["code"] == "RenderTooLarge", picture["error"]
    assert "instance" in picture["error"]["message"].lower() and picture["error"]["hint"]
    after = _submit(rig, "from pxr import UsdGeom\nstage.RemovePrim('/Bomb')\nstage.RemovePrim('/Nan')\n"
                         "UsdGeom.Sphere.Define(stage, '/After')\n", {"width": 64, "height": 64})
    assert after["status"] == "succeeded" and after["result"]["render"]["ok"], after["result"]["render"]["error"]
    assert rig.worker.running


def test_the_render_request_travels_inside_the_signed_claim(rig: Rig) -> None:
    """The worker reads what to draw from the claim's signed `limits.render`, never from unsigned fields."""
    import jwt

    with rig.client() as c:
        job = c.post("/v1/jobs", json={"code": "result = 6\n", "policy": "readonly", "labels": ["signed"],
                                       "render": {"width": 40, "height": 30, "camera": "/World/Cam"}}).json()
    hand = HttpWorker(rig.controller, rig.worker_token, worker_id="reader", labels=["signed"])
    try:
        claim = hand.claim(wait_s=5)
        assert claim is not None and claim["job_id"] == job["id"]
        signed = jwt.decode(claim["envelope"], options={"verify_signature": False})
        assert signed["limits"]["render"] == {"width": 40, "height": 30, "camera": "/World/Cam"}
        assert "render" not in claim  # nothing unsigned carries it
        hand.report(claim, "succeeded")
    finally:
        hand.close()
