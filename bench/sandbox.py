"""Sandbox benchmark: compile cost, job overhead per execution mode, delta cost on a big stage.

Run: .venv/bin/python bench/sandbox.py [--runs N]
Prints one table (wall-clock ms on this machine, p50/p90 over N runs), then where the time of an
isolated job goes: CPU and run-queue wait of the host (parent), the fork server and the job child,
from the executor's per-job `outcome.timings`. The load average is printed at start and end: on a
busy machine most of an isolated job's wall time is waiting for a CPU, which the attribution shows.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

PXR_HEAVY = """
from pxr import Usd, UsdGeom, Sdf, Gf
for i in range(60):
    xf = UsdGeom.Xform.Define(stage, Sdf.Path("/Bench").AppendChild("X%d" % i))
    cube = UsdGeom.Cube.Define(stage, xf.GetPath().AppendChild("Cube"))
    cube.CreateSizeAttr(float(i))
    cube.AddTranslateOp().Set(Gf.Vec3d(i, 0, 0))
    for t in range(4):
        cube.GetSizeAttr().Set(float(i + t), t)
count = 0
for prim in stage.Traverse():
    count += 1
result = count
"""

PURE_LOOP = """
total = 0
for i in range(100000):
    total += i % 7
result = total
"""

SMALL_JOB = """
from pxr import UsdGeom
UsdGeom.Xform.Define(stage, "/Small")
result = 1
"""


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    idx = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[idx]


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def plain_exec(source: str) -> Callable[[], Any]:
    from pxr import Usd

    code = compile(source, "<plain>", "exec")

    def run() -> None:
        stage = Usd.Stage.CreateInMemory()
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, {"stage": stage})  # noqa: S102 - the baseline being measured

    return run


def guarded_direct(source: str, policy: Any) -> Callable[[], Any]:
    from pxr import Usd

    from kitgate.sandbox.compile.compiler import compile_source
    from kitgate.sandbox.runtime.hooks import run_guarded

    compiled = compile_source(source, policy)
    assert compiled.ok, compiled.violations

    def run() -> None:
        report = run_guarded(compiled, policy, Usd.Stage.CreateInMemory(), deadline=time.monotonic() + 60)
        assert report.status == "succeeded", report.error

    return run


def via_executor(ex: Any, source: str, policy: Any, timings: list[dict[str, float]] | None = None,
                 unique: bool = False) -> Callable[[], Any]:
    """One job per call on a fresh in-memory stage; `unique` makes every source new (compile-cache miss)."""
    from pxr import Usd

    counter = iter(range(10**9))

    def run() -> None:
        text = f"{source}# run {next(counter)} {time.perf_counter_ns()}\n" if unique else source
        outcome = ex.run(text, policy, Usd.Stage.CreateInMemory())
        assert outcome.status == "succeeded", outcome.error
        if timings is not None:
            timings.append(dict(outcome.timings))

    return run


def timed_after_idle(fn: Callable[[], Any], idle_s: float) -> list[float]:
    time.sleep(idle_s)
    return timed(fn, 1)


def big_stage(groups: int = 100, per_group: int = 100) -> Any:
    from pxr import Sdf, Usd

    layer = Sdf.Layer.CreateAnonymous(".usda")
    with Sdf.ChangeBlock():
        for path in ["/World", *(f"/World/G{g}" for g in range(groups))]:
            Sdf.CreatePrimInLayer(layer, path).specifier = Sdf.SpecifierDef
        for g in range(groups):
            for i in range(per_group):
                spec = Sdf.CreatePrimInLayer(layer, f"/World/G{g}/P{i}")
                spec.specifier = Sdf.SpecifierDef
                spec.typeName = "Cube"
                Sdf.AttributeSpec(spec, "size", Sdf.ValueTypeNames.Double).default = float(i)
    return Usd.Stage.Open(layer)


def compile_per_kb(policy: Any, runs: int) -> list[float]:
    from kitgate.sandbox.compile import compiler

    unit = "x{n} = [i * 2 for i in range(10)]\nif x{n}[0] == 0:\n    y{n} = sum(x{n})\n"
    per_kb = []
    for _ in range(runs):
        source = "".join(unit.format(n=n) for n in range(200))  # ~12 KB
        source += f"# run {time.perf_counter_ns()}\n"  # defeat the cache
        compiler.clear_cache()
        t0 = time.perf_counter()
        result = compiler.compile_source(source, policy)
        assert result.ok, result.violations[:3]
        per_kb.append((time.perf_counter() - t0) * 1000 / (len(source) / 1024))
    return per_kb


def delta_costs(runs: int) -> dict[str, list[float]]:
    """Child-side build and parent-side apply of a small edit, vs shipping the whole layer back."""
    import gc

    from pxr import Sdf, Usd

    from kitgate.sandbox.delta import ChangeRecorder, Delta, build_delta

    stage = big_stage()
    text = stage.GetRootLayer().ExportToString()
    children = []
    for _ in range(runs):  # built up front: USD tears big stages down on worker threads (noise)
        layer = Sdf.Layer.CreateAnonymous(".usda")
        layer.ImportFromString(text)
        children.append((layer, Usd.Stage.Open(layer)))
    gc.collect()
    build, apply_, whole = [], [], []
    for i, (layer, child) in enumerate(children):
        t0 = time.perf_counter()
        recorder = ChangeRecorder(child, layer)
        child.GetPrimAtPath("/World/G3/P7").GetAttribute("size").Set(100.0 + i)
        child.DefinePrim(f"/World/G5/New{i}", "Sphere")
        wire = json.dumps(build_delta(recorder))
        t1 = time.perf_counter()
        delta = Delta.from_wire(json.loads(wire))
        delta.apply_to(stage)
        t2 = time.perf_counter()
        build.append((t1 - t0) * 1000)
        apply_.append((t2 - t1) * 1000)
        t3 = time.perf_counter()  # the alternative design.md measured: export + re-import everything
        stage.GetRootLayer().ImportFromString(layer.ExportToString())
        whole.append((time.perf_counter() - t3) * 1000)
    return {"build": build, "apply": apply_, "whole": whole}


ATTRIBUTION = (
    ("parent (host) CPU, in execute", "parent_cpu_ms"),
    ("parent run-queue wait, in execute", "parent_wait_ms"),
    ("parent: export edit-target layer", "snapshot_ms"),
    ("parent: apply delta (run)", "apply_ms"),
    ("server: request -> job ready (policy, code, scene copy)", "server_prepare_ms"),
    ("server: get a child (spare check, sync, fresh fork)", "server_fork_ms"),
    ("server: hand the job to the child", "server_dispatch_ms"),
    ("server: job handed over -> result read", "server_child_ms"),
    ("server CPU per job", "server_cpu_ms"),
    ("server run-queue wait per job", "server_wait_ms"),
    ("child: job limits, sync, recorder", "child_setup_ms"),
    ("child: guarded run", "child_run_ms"),
    ("child: build delta", "child_delta_ms"),
    ("child CPU for the job", "child_cpu_ms"),
    ("child run-queue wait (wake-up + preemption)", "child_wait_ms"),
    ("child minor page faults during the job (count)", "child_minflt"),
    ("child CPU before the job (isolation + warm-up)", "child_prejob_cpu_ms"),
    ("  of which isolation after fork", "child_isolate_cpu_ms"),
    ("spare fork in the server, after the previous reply", "server_spare_fork_ms"),
    ("jobs run by a pre-forked spare (fraction)", "server_spare"),
    ("jobs that skipped the layer export (fraction)", "snapshot_reused"),
)


def print_attribution(title: str, samples: list[dict[str, float]]) -> None:
    print(f"\n{title} (p50 over {len(samples)} jobs, ms unless noted)")
    for label, key in ATTRIBUTION:
        values = [t[key] for t in samples if key in t]
        if not values:
            continue
        value = sum(values) / len(values) if key in ("server_spare", "snapshot_reused") else statistics.median(values)
        print(f"  {label:<70} {value:9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--idle-ms", type=float, default=20.0,
                        help="host-side pause before each job in the 'after idle' rows (a worker's HTTP round trips)")
    args = parser.parse_args()
    runs = args.runs
    idle_s = args.idle_ms / 1000.0
    load_start = os.getloadavg()

    from kitgate.sandbox.executor import Executor
    from kitgate.sandbox.policy import load_policy

    scene_edit = load_policy("scene-edit")
    trusted = load_policy("trusted")
    rows: list[tuple[str, list[float]]] = []
    rows.append(("compile, ms per KB (12 KB script, cache cleared)", compile_per_kb(scene_edit, max(5, runs // 3))))

    results: dict[str, list[float]] = {}
    attribution: dict[str, list[dict[str, float]]] = {}
    with Executor() as ex:
        ex.start()
        for label, source in (("small job", SMALL_JOB), ("pxr-heavy", PXR_HEAVY), ("pure-Python loop", PURE_LOOP)):
            iso_timings: list[dict[str, float]] = []
            cases = {
                "plain exec": plain_exec(source),
                "guarded run_guarded (no executor)": guarded_direct(source, scene_edit),
                "in-process executor (trusted)": via_executor(ex, source, trusted),
                "isolated executor (scene-edit)": via_executor(ex, source, scene_edit, iso_timings),
            }
            for fn in cases.values():
                fn()  # warm
            iso_timings.clear()
            # Interleaved (one run of each case per round) so machine load hits every case alike.
            samples: dict[str, list[float]] = {name: [] for name in cases}
            for _ in range(runs):
                for name, fn in cases.items():
                    samples[name] += timed(fn, 1)
            for name in cases:
                results[f"{label}: {name}"] = samples[name]
                rows.append((f"{label}: {name}", samples[name]))
            attribution[f"{label}, isolated, back to back"] = iso_timings

        # A worker is not back to back: between two jobs it reports and claims over HTTP. The fork
        # server uses that pause to fork and warm the next job's child.
        idle_timings: list[dict[str, float]] = []
        new_timings: list[dict[str, float]] = []
        cases = {
            f"small job, after {args.idle_ms:g} ms idle: in-process executor (trusted)":
                via_executor(ex, SMALL_JOB, trusted),
            f"small job, after {args.idle_ms:g} ms idle: isolated executor (scene-edit)":
                via_executor(ex, SMALL_JOB, scene_edit, idle_timings),
            f"small job, new source each run, after {args.idle_ms:g} ms idle: in-process executor":
                via_executor(ex, SMALL_JOB, trusted, unique=True),
            f"small job, new source each run, after {args.idle_ms:g} ms idle: isolated executor":
                via_executor(ex, SMALL_JOB, scene_edit, new_timings, unique=True),
        }
        samples = {name: [] for name in cases}
        for _ in range(runs):
            for name, fn in cases.items():
                samples[name] += timed_after_idle(fn, idle_s)
        for name in cases:
            results[name] = samples[name]
            rows.append((name, samples[name]))
        attribution[f"small job, isolated, after {args.idle_ms:g} ms idle"] = idle_timings
        attribution[f"small job, new source each run, isolated, after {args.idle_ms:g} ms idle"] = new_timings

        big = big_stage()
        n_big = max(5, runs // 3)
        edit = 'stage.GetPrimAtPath("/World/G3/P7").GetAttribute("size").Set(5.0)\n'
        big_timings: dict[str, list[dict[str, float]]] = {"same": [], "changes": [], "host": []}

        def big_execute() -> None:
            outcome, _delta = ex.execute(edit, scene_edit, big)
            big_timings["same"].append(dict(outcome.timings))

        counter = iter(range(10**6))

        def big_run() -> None:
            outcome = ex.run(f'stage.DefinePrim("/World/G1/N{next(counter)}")\n', scene_edit, big)
            big_timings["changes"].append(dict(outcome.timings))

        def host_edit_then_run() -> None:
            big.GetPrimAtPath("/World/G2/P1").GetAttribute("size").Set(float(next(counter)))  # not timed...
            t0 = time.perf_counter()
            outcome = ex.run(f'stage.DefinePrim("/World/G4/N{next(counter)}")\n', scene_edit, big)
            host_samples.append((time.perf_counter() - t0) * 1000)
            big_timings["host"].append(dict(outcome.timings))

        host_samples: list[float] = []
        big_execute()  # warm the server's scene copy
        big_timings["same"].clear()
        rows.append(("10k-prim stage, small edit: isolated execute (scene unchanged)",
                     [timed_after_idle(big_execute, idle_s)[0] for _ in range(n_big)]))
        big_run()
        big_timings["changes"].clear()
        rows.append(("10k-prim stage, small edit: isolated run incl. apply (scene changes every job)",
                     [timed_after_idle(big_run, idle_s)[0] for _ in range(n_big)]))
        for _ in range(n_big):
            time.sleep(idle_s)
            host_edit_then_run()
        rows.append(("10k-prim stage: isolated run after a host edit (export + parse + compose)", host_samples))
        attribution[f"10k-prim stage, scene unchanged, after {args.idle_ms:g} ms idle"] = big_timings["same"]
        attribution[f"10k-prim stage, scene changes every job, after {args.idle_ms:g} ms idle"] = \
            big_timings["changes"]
        attribution["10k-prim stage, host edit before each job"] = big_timings["host"]
    costs = delta_costs(max(5, runs // 3))
    rows.append(("10k-prim stage: delta record+build+serialize (child side)", costs["build"]))
    rows.append(("10k-prim stage: delta parse+validate+apply (parent side)", costs["apply"]))
    rows.append(("10k-prim stage: alternative, whole layer export + ImportFromString", costs["whole"]))

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, runs={runs}, "
          f"load average at start {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}")
    print(f"{'measurement':<88} {'p50 ms':>9} {'p90 ms':>9}")
    for name, values in rows:
        print(f"{name:<88} {statistics.median(values):9.2f} {pct(values, 0.9):9.2f}")

    def p50(key: str) -> float:
        return statistics.median(results[key])

    iso = p50("small job: isolated executor (scene-edit)") - p50("small job: in-process executor (trusted)")
    idle = (p50(f"small job, after {args.idle_ms:g} ms idle: isolated executor (scene-edit)")
            - p50(f"small job, after {args.idle_ms:g} ms idle: in-process executor (trusted)"))
    ratio = p50("pxr-heavy: guarded run_guarded (no executor)") / p50("pxr-heavy: plain exec")
    loop_ratio = p50("pure-Python loop: guarded run_guarded (no executor)") / p50("pure-Python loop: plain exec")
    print()
    print(f"isolated overhead over in-process, small job, back to back (p50):   {iso:6.2f} ms  (target <= 10 ms)")
    print(f"isolated overhead over in-process, small job, after idle (p50):     {idle:6.2f} ms  (target <= 10 ms)")
    print(f"guarded / plain exec, pxr-heavy (p50):                              {ratio:6.2f}x  (target <= 1.3x)")
    print(f"guarded / plain exec, pure-Python loop (p50):                       {loop_ratio:6.2f}x  (no target)")
    for title, samples_ in attribution.items():
        print_attribution(f"where the time goes: {title}", samples_)
    load_end = os.getloadavg()
    print(f"\nload average at end {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}")


if __name__ == "__main__":
    main()
