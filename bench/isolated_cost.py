"""Worker CPU per trivial isolated job (policy scene-edit): what the default path costs the worker's machine.

WHY: an isolated job crosses three processes (the host/worker, the warm fork server, a disposable
child per job, plus the pre-forked spare that becomes the next job's child). Wall time on a busy
2-core box is mostly waiting for a CPU; CPU time read from /proc is what the path really costs and is
far less sensitive to other load. This reports, per job:

- host: the calling process's own CPU (time.process_time: compile-cache hit, request, result
  parsing, delta validation and application, note_applied);
- server: the fork server's own CPU (utime+stime of its /proc/<pid>/stat);
- children: its job and spare children (cutime+cstime of the server, which reaps them, plus the
  children still alive at the end of the run, read from their own /proc entries);
- the per-step attribution the executor reports in `outcome.timings` (medians).

    .venv/bin/python bench/isolated_cost.py [--n 300] [--prims 0] [--job trivial|define] [--gap-ms 0]
                                            [--steps] [--worker]

`--steps` adds a per-step breakdown of one child's CPU and page faults (see `child_steps`).

`--worker` also runs the same trivial job through a real `kitgate serve` + one `kitgate worker`
(bench/e2e_latency.py's harness) and reports the worker process tree's CPU per job.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

JOBS = {
    "trivial": "x = 1\n",  # bench/e2e_latency.py's job: no scene change (an empty delta)
    "define": "from pxr import UsdGeom\nUsdGeom.Xform.Define(stage, '/World/B{i}')\n",  # a one-prim edit
}
CLK_TCK = os.sysconf("SC_CLK_TCK")
ATTRIBUTION = (
    ("parent_cpu_ms", "host: executor thread CPU (request, result, delta check)"),
    ("apply_ms", "host: delta apply + note_applied (wall)"),
    ("server_cpu_ms", "server: CPU while serving the job"),
    ("server_prepare_ms", "server: parse request, policy, scene copy (wall)"),
    ("server_fork_ms", "server: take spare / fork, encode job (wall)"),
    ("server_dispatch_ms", "server: write job to child (wall)"),
    ("server_child_ms", "server: child ran -> result read (wall)"),
    ("server_spare_fork_ms", "server: fork() of this job's child (wall, off path if spare)"),
    ("child_prejob_cpu_ms", "child: CPU before the job (isolate + warm-up, off path)"),
    ("child_isolate_cpu_ms", "child: CPU to isolate (setsid, fds, cwd, rlimits)"),
    ("child_cpu_ms", "child: CPU for the job (sync, run, delta, encode)"),
    ("child_wait_ms", "child: waiting for a CPU during the job (wall)"),
    ("child_setup_ms", "child: sync + recorder (wall)"),
    ("child_run_ms", "child: guarded run (wall)"),
    ("child_delta_ms", "child: build delta (wall)"),
    ("child_minflt", "child: minor page faults during the job"),
    ("run_ms", "host: execute round trip (wall)"),
)


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()


def server_cpu(server: int) -> tuple[float, float, int, int]:
    """(server's own CPU, its children's CPU) in seconds and (own, children's) minor page faults: reaped
    children via cutime+cstime/cminflt, live ones read directly (the spare waiting for the next job, a
    job child not yet reaped)."""
    fields = _stat_fields(server)
    if fields is None:
        return 0.0, 0.0, 0, 0
    own = (int(fields[11]) + int(fields[12])) / CLK_TCK
    children = (int(fields[13]) + int(fields[14])) / CLK_TCK
    own_flt, kids_flt = int(fields[7]), int(fields[8])
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            f = _stat_fields(int(entry))
            if f is not None and int(f[1]) == server:
                children += sum(int(v) for v in f[11:15]) / CLK_TCK
                kids_flt += int(f[7]) + int(f[8])
    return own, children, own_flt, kids_flt


def stage_with(prims: int) -> Any:
    from pxr import Sdf, Usd

    stage = Usd.Stage.CreateInMemory()
    layer = stage.GetRootLayer()
    with Sdf.ChangeBlock():
        for i in range(prims):
            Sdf.CreatePrimInLayer(layer, f"/Scene/P{i}").specifier = Sdf.SpecifierDef
    return stage


def executor_run(n: int, prims: int, job: str, policy_name: str, gap_ms: float = 0.0) -> dict[str, Any]:
    """N jobs through the real Executor the way the worker runs them: execute, apply, note_applied."""
    from kitgate.sandbox.executor import Executor
    from kitgate.sandbox.policy import load_policy

    policy = load_policy(policy_name)
    stage = stage_with(prims)
    source = JOBS[job]
    timings: list[dict[str, float]] = []
    wall: list[float] = []
    with Executor() as ex:

        def one(i: int) -> dict[str, float]:
            t0 = time.perf_counter()
            outcome, delta = ex.execute(source.format(i=i), policy, stage)
            if outcome.status != "succeeded":
                raise SystemExit(f"job failed: {outcome}")
            t1 = time.perf_counter()
            if delta is not None:
                delta.apply_to(stage)
                ex.note_applied(delta)
            row = {k: float(v) for k, v in outcome.timings.items() if isinstance(v, (int, float))}
            row["apply_ms"] = (time.perf_counter() - t1) * 1000
            wall.append((time.perf_counter() - t0) * 1000)
            return row

        for i in range(20):  # start the server, warm its policy, fill the compile cache
            one(100_000 + i)
        wall.clear()
        server = ex.server_pid
        assert server is not None
        own0, kids0, oflt0, kflt0 = server_cpu(server)
        host0 = time.process_time()
        t0 = time.perf_counter()
        for i in range(n):
            timings.append(one(i))
            if gap_ms:
                time.sleep(gap_ms / 1000)  # a real worker reports and claims between jobs
        elapsed = time.perf_counter() - t0
        host1 = time.process_time()
        own1, kids1, oflt1, kflt1 = server_cpu(server)
    return {"host": (host1 - host0) / n, "server": (own1 - own0) / n, "children": (kids1 - kids0) / n,
            "server_faults": (oflt1 - oflt0) / n, "children_faults": (kflt1 - kflt0) / n,
            "wall": wall, "elapsed": elapsed, "timings": timings}


def child_steps(n: int, warm: bool) -> tuple[list[tuple[str, float, float]], dict[str, float]]:
    """Where a job child's CPU goes, step by step: a warm ForkServer in this process forks `n` children
    that run child.py's own functions in run_child's order (isolate, [warm-up,] read the job, recorder,
    run, result) with a getrusage() mark after each. An emulation for attribution, not the real path
    (that is `executor_run`); the mean CPU and minor faults per step, and the fork/exit totals."""
    import gc
    import marshal
    import resource
    import socket
    import tempfile

    from kitgate.sandbox.compile.compiler import compile_source
    from kitgate.sandbox.policy import load_policy
    from kitgate.sandbox.process import child as c
    from kitgate.sandbox.process.forkserver import SPARE_WARM_SCRIPTS, ForkServer, freeze_heap

    def mark(name: str, marks: list[Any]) -> None:
        r = resource.getrusage(resource.RUSAGE_SELF)
        marks.append((name, (r.ru_utime + r.ru_stime) * 1000, r.ru_minflt))

    base = load_policy("scene-edit")
    server_sock, _peer = socket.socketpair()
    server = ForkServer(server_sock, Path(tempfile.mkdtemp(prefix="kitgate-steps-")))
    server.warm()
    key, policy = server._policy({"name": base.name, "digest": base.digest, "source": base.source,
                                  "asset_roots": []})
    server._stage({"identifier": "steps", "anonymous": True, "text": "#usda 1.0\n"}, None)
    assert server._snapshot is not None
    stage, layer = server._snapshot
    freeze_heap()
    code = compile_source(JOBS["trivial"], policy).code
    meta = {"policy_key": list(key), "code_sha256": "", "timeout_s": 10.0, "cpu_s": 10, "memory_mb": 1024,
            "rng_seed": None, "want_delta": True, "result_cap": 10**7, "sync": None}
    job = c.encode_job(meta, marshal.dumps(code))
    warm_stage = stage_with(0)
    recorder = server._pristine_recorder(stage, layer)
    sums: dict[str, list[float]] = {}
    order: list[str] = []
    before = _stat_fields(os.getpid())
    for _ in range(n):
        r_out, w_out = os.pipe()
        r_cmd, w_cmd = os.pipe()
        scratch = os.path.join(server.scratch_root, "job-" + os.urandom(8).hex())
        setup = c.ChildSetup(stage=stage, layer=layer, policies=server._policies, scratch=scratch,
                             env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, server_pid=os.getpid(),
                             warm_policy=policy if warm else None, warm_scripts=SPARE_WARM_SCRIPTS,
                             recorder=recorder, warm_stage=warm_stage)
        pid = os.fork()
        if pid == 0:
            marks: list[Any] = []
            mark("fork (kernel + interpreter after-fork)", marks)
            gc.freeze()
            os.setsid()
            c.die_with_parent()
            mark("setsid + PDEATHSIG", marks)
            c._private_cwd(scratch)
            mark("private cwd (mkdir + chdir)", marks)
            os.environ.clear()
            os.environ.update(setup.env)
            os.umask(0o077)
            mark("scrub environment", marks)
            c.apply_base_limits(c.ChildLimits(cpu_s=0, address_space_bytes=0))
            mark("base rlimits", marks)
            if warm:
                idle, _idle_w = os.pipe()
                c._warm(setup, idle)  # an empty command pipe: no job pending, so the whole warm-up runs
                mark("spare warm-up", marks)
            os.write(w_cmd, job)
            child_job = c.read_job(setup, r_cmd)
            assert child_job is not None
            mark("read job (+ CPU/AS rlimits)", marks)
            from kitgate.sandbox.runtime.hooks import run_guarded

            rec = c._recorder(setup, child_job)
            mark("change recorder", marks)
            report = run_guarded(child_job.compiled, child_job.policy, stage, deadline=time.monotonic() + 10)
            mark("guarded run", marks)
            assert rec is not None and rec.unchanged()
            mark("no-change check", marks)
            c._payload(child_job, report, None, None, {})
            mark("encode result", marks)
            os.write(w_out, json.dumps(marks).encode())
            os._exit(0)
        os.close(r_cmd)
        os.close(w_cmd)
        os.close(w_out)
        data = json.loads(os.read(r_out, 1 << 20))
        os.close(r_out)
        os.waitpid(pid, 0)
        os.rmdir(scratch)
        prev = (0.0, 0.0)
        for name, cpu, flt in data:
            if name not in sums:
                order.append(name)
            sums.setdefault(name, [0.0, 0.0])
            sums[name][0] += cpu - prev[0]
            sums[name][1] += flt - prev[1]
            prev = (cpu, flt)
    after = _stat_fields(os.getpid())
    assert before is not None and after is not None
    reaped_cpu = int(after[13]) + int(after[14]) - int(before[13]) - int(before[14])  # cutime + cstime, ticks
    totals = {"children_cpu": reaped_cpu / CLK_TCK / n * 1000,
              "children_faults": (int(after[8]) - int(before[8])) / n,
              "measured": sum(v[0] for v in sums.values()) / n}
    return [(k, sums[k][0] / n, sums[k][1] / n) for k in order], totals


def worker_run(n: int) -> dict[str, float]:
    """The same trivial job through a real controller + one real `kitgate worker` (CPU of its tree)."""
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import e2e_latency as e2e  # the same harness as the end-to-end benchmark

    with tempfile.TemporaryDirectory(prefix="kitgate-bench-") as tmp:
        ctl = e2e.Controller(Path(tmp))
        try:
            operator = ctl.mint("jobs:submit", "jobs:read")
            token_file = Path(tmp) / "worker.token"
            token_file.write_text(ctl.mint("worker") + "\n")
            token_file.chmod(0o600)
            workers = e2e.start_workers(ctl, 1, token_file, "cost")
            client = e2e.LeanClient(ctl.url, operator)
            lat = []
            try:
                for _ in range(20):
                    client.submit_wait("scene-edit")
                pid = workers[0].pid
                cpu0 = e2e.tree_cpu(pid)
                for _ in range(n):
                    elapsed, _job = client.submit_wait("scene-edit")
                    lat.append(elapsed * 1000)
                cpu1 = e2e.tree_cpu(pid)
            finally:
                client.close()
                e2e.stop_workers(workers)
        finally:
            ctl.stop()
    return {"worker_tree_cpu": (cpu1 - cpu0) / n * 1000, "p50": statistics.median(lat),
            "p99": sorted(lat)[min(len(lat) - 1, int(0.99 * len(lat)))]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300, help="jobs measured (after 20 warm-up jobs)")
    ap.add_argument("--prims", type=int, default=0, help="prims in the stage the jobs run on")
    ap.add_argument("--job", choices=sorted(JOBS), default="trivial")
    ap.add_argument("--policy", default="scene-edit")
    ap.add_argument("--gap-ms", type=float, default=0.0,
                    help="idle time between jobs (a worker's report + claim): lets the spare child warm up")
    ap.add_argument("--steps", action="store_true",
                    help="also break a child's CPU down by step (an emulation in this process, see child_steps)")
    ap.add_argument("--worker", action="store_true", help="also run through a real controller + kitgate worker")
    args = ap.parse_args(argv)
    load = os.getloadavg()
    r = executor_run(args.n, args.prims, args.job, args.policy, args.gap_ms)
    ms = 1000.0
    total = r["host"] + r["server"] + r["children"]
    print(f"isolated path, policy {args.policy}, job {args.job!r}, {args.prims}-prim stage, n={args.n}, "
          f"gap {args.gap_ms:g} ms, "
          f"load average {load[0]:.2f} -> {os.getloadavg()[0]:.2f}")
    print(f"{'CPU per job (ms, from /proc and process_time)':52} {'value':>8}")
    print(f"{'  host process (the worker/executor caller)':52} {r['host'] * ms:8.2f}")
    print(f"{'  fork server (own)':52} {r['server'] * ms:8.2f}")
    print(f"{'  children (job child + spare, reaped or live)':52} {r['children'] * ms:8.2f}")
    print(f"{'  total worker-side CPU':52} {total * ms:8.2f}")
    print(f"{'minor page faults per job: server / children':52} {r['server_faults']:8.0f} / "
          f"{r['children_faults']:.0f}")
    wall = sorted(r["wall"])
    print(f"{'wall per job p50 / p90 (execute + apply)':52} {statistics.median(wall):8.2f} / "
          f"{wall[int(0.9 * (len(wall) - 1))]:.2f}")
    print(f"{'jobs/s, one caller':52} {args.n / r['elapsed']:8.0f}")
    print()
    print(f"{'attribution (median over jobs)':64} {'value':>8}")
    for key, label in ATTRIBUTION:
        values = [t[key] for t in r["timings"] if key in t]
        if values:
            print(f"  {label:62} {statistics.median(values):8.2f}")
    if args.steps:
        for warm in (False, True):
            steps, totals = child_steps(min(args.n, 100), warm)
            print()
            print(f"child CPU by step ({'with' if warm else 'without'} the spare warm-up; mean ms and minor faults)")
            for name, cpu, faults in steps:
                print(f"  {name:44} {cpu:8.3f} {faults:8.0f}")
            print(f"  {'sum of the steps':44} {totals['measured']:8.3f}")
            print(f"  {'whole child incl. exit teardown (/proc)':44} {totals['children_cpu']:8.3f} "
                  f"{totals['children_faults']:8.0f}")
    if args.worker:
        w = worker_run(args.n)
        print()
        print(f"real `kitgate worker` (+ controller over loopback), n={args.n}")
        print(f"{'  worker process tree CPU per job (ms)':52} {w['worker_tree_cpu']:8.2f}")
        print(f"{'  end-to-end latency p50 / p99 (ms)':52} {w['p50']:8.2f} / {w['p99']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
