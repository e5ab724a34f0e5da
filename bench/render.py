"""Time to a picture: a 512x512 PNG of a 10,000-prim stage, headless, and its share of a job's time.

Measures what a worker would add when a job asks for a picture: exporting the job's layer to text, then
``render_layer_text`` (a fresh child: interpreter, pxr and Mesa start-up, warm-up, the render), next to
the engine alone in this process (``render_stage_in_process``: plan, build instanced batches, draw, PNG;
it makes and releases its own GL context each time) and a trivial job on the same stage through the real Executor
(fork + run + delta apply, as bench/worker_overhead.py). The stage is a 100 x 100 grid of coloured
cubes, spheres, cylinders and cones under one Xform, so all 10,000 prims are drawn. Limits: the scene-edit
policy's [render] caps, as the headless worker applies them (time_s 20, memory_mb 1024, max_faces 1M).
Usage: .venv/bin/python bench/render.py [--n 5] [--prims 10000] [--size 512]
A/B against an older tree: git archive 9c301c3 src | tar -x -C /tmp/old && bench/render.py --ab /tmp/old/src
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as in the worker's sandbox and the render child
TRIVIAL = "from pxr import UsdGeom\nUsdGeom.Cube.Define(stage, '/World/Bench_{i}')\n"
KINDS = ("Cube", "Sphere", "Cylinder", "Cone")


def _stage(prims: int) -> Any:
    from pxr import Gf, Usd, UsdGeom, Vt

    stage = Usd.Stage.CreateInMemory()
    UsdGeom.Xform.Define(stage, "/World")
    side = max(1, int(prims ** 0.5))
    for i in range(prims - 1):
        gprim = getattr(UsdGeom, KINDS[i % len(KINDS)]).Define(stage, f"/World/G{i}")
        gprim.AddTranslateOp().Set(Gf.Vec3d(i % side * 1.5, 0, i // side * 1.5))
        hue = (i % side) / side
        gprim.CreateDisplayColorAttr(Vt.Vec3fArray([Gf.Vec3f(hue, 0.4, 1 - hue)]))
    return stage


CPU: dict[str, list[float]] = {}  # CPU ms per row: this process's (all its threads) plus its children's


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return (own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime) * 1000.0


def _timed(fn: Callable[[], Any], row: str = "") -> tuple[float, Any]:
    c0, t0 = _cpu(), time.perf_counter()
    out = fn()
    wall = (time.perf_counter() - t0) * 1000.0
    if row:
        CPU.setdefault(row, []).append(_cpu() - c0)
    return wall, out


def _ab(old_src: str, text: str, request: Any, limits: Any, n: int) -> None:
    """The render child of another tree (``old_src``, e.g. an old commit's src/ from `git archive`) and of
    this one, alternated on the same job: wall and CPU ms of each child, run directly."""
    import json
    import subprocess

    from kitgate.render.isolated import _threads, child_environment

    job = json.dumps({"layer_text": text, "limits": limits.to_dict(), "asset_base": [], "anchor": None,
                      "request": {"width": request.width, "height": request.height, "camera": None},
                      "threads": _threads()}).encode()
    here = child_environment()
    trees = {"other tree": {**here, "PYTHONPATH": old_src}, "this tree": here}
    res: dict[str, list[tuple[float, float]]] = {k: [] for k in trees}
    for _ in range(n):
        for name, env in trees.items():
            c0, t0 = _cpu(), time.perf_counter()
            out = subprocess.run([sys.executable, "-B", "-m", "kitgate.render.child"], input=job, env=env,
                                 cwd="/", capture_output=True, check=False).stdout
            res[name].append(((time.perf_counter() - t0) * 1000.0, _cpu() - c0))
            assert out[:1] == b"P", out[:300]
    for name, values in res.items():
        walls, cpus = [v[0] for v in values], [v[1] for v in values]
        print(f"render child, {name:10}: wall min {min(walls):7.0f} median {statistics.median(walls):7.0f}   "
              f"CPU min {min(cpus):7.0f} median {statistics.median(cpus):7.0f}  (ms, n={n})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--prims", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--jobs", type=int, default=30, help="trivial jobs timed for the comparison")
    ap.add_argument("--out", default="", help="write the last picture here")
    ap.add_argument("--ab", default="", metavar="OTHER_SRC",
                    help="only compare the render child of OTHER_SRC (another tree's src/) with this one's")
    args = ap.parse_args(argv)

    from kitgate.render import RenderRequest, render_layer_text, render_stage_in_process
    from kitgate.sandbox.executor import Executor
    from kitgate.sandbox.policy import load_policy
    from kitgate.worker.picture import render_limits

    stage = _stage(args.prims)
    policy = load_policy("scene-edit")
    request, limits = RenderRequest(args.size, args.size), render_limits(policy.render)  # the headless worker's
    if args.ab:
        _ab(args.ab, stage.GetRootLayer().ExportToString(), request, limits, args.n)
        return 0
    from kitgate.render.layers import open_layer_text
    from kitgate.render.scene import build_geometry, plan_scene

    rows: dict[str, list[float]] = {k: [] for k in ("export layer text", "render child (total)", "engine only",
                                                    "  parse + compose text", "  engine: count (plan)",
                                                    "  engine: build batches")}
    png = b""
    render_stage_in_process(stage, request, limits)  # warm pxr's thread pool and Mesa once
    for _ in range(args.n):
        names = list(rows)
        t_exp, text = _timed(lambda: stage.GetRootLayer().ExportToString(), names[0])
        t_child, png = _timed(lambda text=text: render_layer_text(text, request, limits), names[1])
        t_eng, _ = _timed(lambda: render_stage_in_process(stage, request, limits), names[2])
        t_open, _ = _timed(lambda text=text: open_layer_text(text, None, None), names[3])
        t_plan, plan = _timed(lambda: plan_scene(stage, limits), names[4])
        t_build, _ = _timed(lambda plan=plan: build_geometry(stage, plan), names[5])
        for k, v in zip(rows, (t_exp, t_child, t_eng, t_open, t_plan, t_build), strict=True):
            rows[k].append(v)
    if args.out:
        with open(args.out, "wb") as fh:
            fh.write(png)

    jobs: list[float] = []
    with Executor() as ex:
        ex.execute(TRIVIAL.format(i="warm"), policy, stage)
        for i in range(args.jobs):
            t, (outcome, delta) = _timed(lambda i=i: ex.execute(TRIVIAL.format(i=i % 4), policy, stage, timeout_s=10))
            assert outcome.status == "succeeded", outcome
            t_app, _ = _timed(lambda delta=delta: delta.apply_to(stage) if delta is not None else None)
            jobs.append(t + t_app)

    tris = plan_scene(stage, limits).triangles
    print(f"render {args.size}x{args.size}, {args.prims}-prim stage ({tris:,} triangles), n={args.n} (ms); "
          f"PNG {len(png):,} bytes")
    print(f"{'step':28} {'median':>9} {'min':>9} {'max':>9} {'min CPU':>9}  (wall ms; CPU ms of all threads)")
    for name, values in rows.items():
        print(f"{name:28} {statistics.median(values):9.1f} {min(values):9.1f} {max(values):9.1f} "
              f"{min(CPU[name]):9.1f}")
    job = statistics.median(jobs)
    print(f"{'trivial job (execute+apply)':28} {job:9.1f} {min(jobs):9.1f} {max(jobs):9.1f}")
    picture = statistics.median(rows["export layer text"]) + statistics.median(rows["render child (total)"])
    print(f"share of a trivial job with a picture: render {picture / (picture + job):.1%} "
          f"({picture:.0f} ms of {picture + job:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
