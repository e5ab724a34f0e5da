"""Compile cost against script size: is `compile_source` linear, and what does a 3 KB script cost?

Why: every submission is compiled (RestrictedPython plus our own checks) before it is queued, so an
agent waits for it on every new script. A super-linear pass hides at 1 KB and hurts at 32 KB; this
script prints ms and ms/KB from 0.1 KB to 64 KB so both show.

Scripts are agent-like: pxr imports and calls, loops, functions, dicts, f-strings, comprehensions,
classes, try/except, built by repeating varied blocks (each copy gets its own names, so nothing is
repeated verbatim). The compile cache is cleared before each timed compile, and each size is timed
min-of-N (the machine may be busy; the minimum is the least disturbed run), in wall and CPU time.

Run: .venv/bin/python bench/compile_scaling.py [--runs 7] [--policy scene-edit] [--profile 12]
`--profile KB` prints a cProfile of compiles of a script of that size (sorted by own time).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time

_BLOCKS = (
    '''
def make_row_{n}(stage, parent, count={k}):
    """Build a row of cubes under `parent` and return their paths."""
    paths = []
    for i in range(count):
        path = parent.AppendChild(f"Cube_{n}_{{i}}")
        cube = UsdGeom.Cube.Define(stage, path)
        cube.CreateSizeAttr(1.0 + i * 0.5)
        cube.AddTranslateOp().Set(Gf.Vec3d(i * 2.0, {k}.0, 0.0))
        paths.append(str(path))
    return paths
''',
    '''
settings_{n} = {{
    "name": "layout_{n}",
    "spacing": {k}.5,
    "colors": [Gf.Vec3f(0.1, 0.2, 0.{k}), Gf.Vec3f(1.0, 0.5, 0.25)],
    "tags": {{"kind": "prop", "index": {n}, "enabled": True}},
}}
totals_{n} = {{key: len(str(value)) for key, value in settings_{n}.items() if key != "tags"}}
''',
    '''
count_{n} = 0
for prim in stage.Traverse():
    if prim.GetTypeName() == "Cube" and prim.GetName().startswith("Cube_"):
        count_{n} += 1
    elif prim.IsA(UsdGeom.Xform):
        attr = prim.GetAttribute("xformOpOrder")
        if attr and attr.HasValue():
            count_{n} += len(attr.Get()) % {k}
''',
    '''
class Placer_{n}:
    def __init__(self, stage, root="/World/Group_{n}"):
        self.stage = stage
        self.root = Sdf.Path(root)
        self.placed = {{}}

    def place(self, name, x, y=0.0, z=0.0):
        xf = UsdGeom.Xform.Define(self.stage, self.root.AppendChild(name))
        xf.AddTranslateOp().Set(Gf.Vec3d(x, y, z))
        self.placed[name] = (x, y, z)
        return xf
''',
    '''
try:
    values_{n} = [float(v) * {k} for v in range(12) if v % 3 != 1]
    mean_{n} = sum(values_{n}) / max(1, len(values_{n}))
except (ValueError, ZeroDivisionError) as exc:
    mean_{n} = -1.0
    print(f"block {n} failed: {{exc!r}}")
finally:
    label_{n} = "mean=%.3f" % mean_{n}
''',
    '''
i_{n} = 0
while i_{n} < {k}:
    prim_{n} = stage.DefinePrim(f"/World/Scatter_{n}/P{{i_{n}}}", "Sphere")
    prim_{n}.CreateAttribute("radius", Sdf.ValueTypeNames.Double).Set(0.25 * (i_{n} + 1))
    i_{n} += 1
names_{n} = sorted({{p.GetName() for p in stage.Traverse()}}, key=lambda s: (len(s), s))[:{k}]
''',
)

HEADER = "from pxr import Usd, UsdGeom, Sdf, Gf\nimport math\n\nstage_root = stage.GetPseudoRoot()\n"
FOOTER = "\nresult = {'count': len(list(stage.Traverse())), 'ok': True}\n"


def agent_script(target_bytes: int, salt: str = "") -> str:
    """An agent-like script of about `target_bytes` bytes (never more than a block over)."""
    parts = [f"# {salt}\n" if salt else "", HEADER]
    size = sum(len(p) for p in parts) + len(FOOTER)
    n = 0
    while size < target_bytes:
        block = _BLOCKS[n % len(_BLOCKS)].format(n=n, k=2 + n % 7)
        if size + len(block) > target_bytes and n:
            break
        parts.append(block)
        size += len(block)
        n += 1
    while size < target_bytes:  # pad with small statements to land near the target
        line = f"pad_{n} = {n} * 2\n"
        parts.append(line)
        size += len(line)
        n += 1
    parts.append(FOOTER)
    return "".join(parts)


SIZES_KB = (0.1, 0.5, 1, 2, 3, 4, 8, 12, 16, 32, 64)


def time_compile(source: str, policy: object, runs: int) -> tuple[float, float]:
    """Min-of-`runs` (wall ms, CPU ms) for one uncached compile of `source`.

    CPU time (this process's) is the steadier number on a busy machine: it leaves out the time spent
    waiting for a core, though cache contention still inflates it somewhat."""
    from kitgate.sandbox.compile import compiler

    best_wall = best_cpu = float("inf")
    for _ in range(runs):
        compiler.clear_cache()
        c0, t0 = time.process_time(), time.perf_counter()
        result = compiler.compile_source(source, policy)  # type: ignore[arg-type]
        wall, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
        if not result.ok:
            raise SystemExit(f"benchmark script refused: {result.violations[:3]}")
        best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
    return best_wall, best_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed compiles per size (min is reported)")
    parser.add_argument("--policy", default="scene-edit")
    parser.add_argument("--profile", type=float, default=0.0, metavar="KB",
                        help="print a cProfile of compiling a script of this size instead of the table")
    args = parser.parse_args(argv)

    from kitgate.sandbox.compile import compiler
    from kitgate.sandbox.policy import load_policy

    policy = load_policy(args.policy)
    if args.profile:
        source = agent_script(int(args.profile * 1024))
        compiler.compile_source(source, policy)  # warm imports
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(max(1, args.runs)):
            compiler.clear_cache()
            compiler.compile_source(source, policy)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(25)
        print(buf.getvalue())
        return 0

    compiler.compile_source(agent_script(2048, "warm"), policy)  # imports and first-use caches
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"policy {args.policy}, min of {args.runs} uncached compiles per size; load average {load:.2f}")
    print(f"{'size KB':>8} {'lines':>6} {'wall ms':>9} {'ms/KB':>7} {'CPU ms':>9} {'ms/KB':>7}")
    for kb in SIZES_KB:
        source = agent_script(int(kb * 1024))
        size_kb = len(source.encode()) / 1024
        wall, cpu = time_compile(source, policy, args.runs)
        print(f"{size_kb:8.2f} {source.count(chr(10)) + 1:6d} {wall:9.3f} {wall / size_kb:7.3f} {cpu:9.3f} "
              f"{cpu / size_kb:7.3f}")
    if hasattr(os, "getloadavg"):
        print(f"load average at end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
