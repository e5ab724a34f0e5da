"""End-to-end latency and throughput: real `kitgate serve` + real `kitgate worker` processes over loopback.

Why: this is the number users feel, so it measures what users run. The default policy is the default
user policy `scene-edit` (isolated child per job); `--policy bench-trusted` measures the in-process
path (`trusted` with its approval gate removed, written to a bench-only policy dir, see
`bench_policy_dir`). In the same run it drives a bare socket `exec` bridge (bench/exec_bridge.py, what
kitgate replaces, no safety at all) with the same client pattern and prints kitgate's p50 as a
multiple of the bridge's: the cost of safety as one number.

    .venv/bin/python bench/e2e_latency.py [--jobs 500] [--policy scene-edit|bench-trusted] [--concurrency 16]
        [--replicas 1|2] [--store sqlite|postgres]

Scale-out (issue 15): `--store postgres` puts the controller on a fresh schema of the PostgreSQL at
KG_BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/test; `kitgate db migrate` + `kitgate init`
first, the schema is dropped afterwards); `--replicas 2` starts two replicas on it (different data dirs, one
keys dir) behind bench/rr_proxy.py, a per-connection round-robin TCP proxy, and every client and worker talks
to the proxy. Each keep-alive connection stays on the replica it landed on, so with 2 replicas a submitter and
the worker that runs its job are often on different replicas (the cross-replica LISTEN/NOTIFY path). The CPU
table then also has the proxy and the PostgreSQL backend processes serving the replicas' connections (found
through their client ports in pg_stat_activity; a backend that exited during a run is missed).

Latency: one client submits a trivial job with wait_s and measures until the finished job is in its
hands (submit -> claim -> execute -> report -> wake-up -> response), sequentially, with 1 worker.
Throughput: `concurrency` client threads submit-and-wait in a loop against 1 and then 4 workers.
The controller's own timestamps split each job into queue wait, worker time and HTTP/wake-up overhead,
and CPU time read from /proc before and after each run (controller, workers with their children, the
client) says what each process costs per job, apart from the time spent waiting for a CPU or a disk.
Every table names the policy and the worker kind it was measured with.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from exec_bridge import BridgeClient  # noqa: E402 - bench/ is a directory of scripts, not a package

PG_URL = os.environ.get("KG_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")

BIN = Path(sys.executable).parent
KITGATE = str(BIN / "kitgate")
TRIVIAL = "x = 1\n"
RATES = {k: "10000000/minute" for k in ("KITGATE_RATE_SUBMIT", "KITGATE_RATE_READ", "KITGATE_RATE_WORKER")}


CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds incl. reaped children) of one process, from /proc/<pid>/stat."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # the command name may contain spaces
    ticks = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return int(fields[1]), ticks / CLK_TCK


def tree_cpu(root: int) -> float:
    """CPU seconds of a process and its live descendants (a worker's fork server counts as the worker)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None:
                parents[int(entry)], cpu[int(entry)] = st
    total, frontier = 0.0, {root}
    while frontier:
        total += sum(cpu.get(p, 0.0) for p in frontier)
        frontier = {c for c, parent in parents.items() if parent in frontier}
    return total


def python_speed() -> float:
    """ns per iteration of a plain Python loop: compares this machine's per-core speed with others'."""
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.process_time() - t0)
    return best / 2_000_000 * 1e9


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat (all cores)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal (guest is inside user)
    return (total - idle) / CLK_TCK, total / CLK_TCK


def socket_ports(pid: int) -> set[int]:
    """Local TCP ports of the sockets a process holds open (its fds matched against /proc/<pid>/net/tcp*)."""
    inodes: set[str] = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    ports: set[int] = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                cols = line.split()
                if len(cols) > 9 and cols[9] in inodes:
                    ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports


class PgBackends:
    """The PostgreSQL server processes serving our replicas' connections, by their client ports."""

    def __init__(self, url: str, replicas: Callable[[], list[int]]) -> None:
        self.url, self.replicas = url, replicas

    def pids(self) -> list[int]:
        import psycopg

        ports = sorted(set().union(*(socket_ports(p) for p in self.replicas())))
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE client_addr IS NOT NULL AND "
                                "client_port = ANY(%s)", (ports,)).fetchall()
        return [int(r[0]) for r in rows]

    def cpu(self) -> dict[int, float]:
        out: dict[int, float] = {}
        for pid in self.pids():
            st = _stat(pid)
            if st is not None:
                out[pid] = st[1]
        return out


class CpuMeter:
    """CPU seconds spent per job by the client (this process), the controller replica(s), the proxy, the workers
    and the PostgreSQL backends serving the replicas, in one run."""

    def __init__(self, controller: int | list[int], workers: list[int], proxy: int | None = None,
                 pg: PgBackends | None = None) -> None:
        self.controllers = [controller] if isinstance(controller, int) else list(controller)
        self.workers, self.proxy, self.pg = workers, proxy, pg
        self.pg_start = pg.cpu() if pg else {}
        self.start = self._sample()

    def _sample(self) -> tuple[float, ...]:
        t = os.times()
        return (time.perf_counter(), t.user + t.system, *(tree_cpu(c) for c in self.controllers),
                tree_cpu(self.proxy) if self.proxy else 0.0, sum(tree_cpu(w) for w in self.workers),
                *machine_busy())

    def per_job(self, jobs: int) -> dict[str, Any]:
        end = self._sample()
        pg_end = self.pg.cpu() if self.pg else {}
        pg = sum(v - self.pg_start.get(pid, 0.0) for pid, v in pg_end.items())
        delta = [b - a for a, b in zip(self.start, end, strict=True)]
        n = len(self.controllers)
        wall, client, replicas, proxy, workers, busy, total = (
            delta[0], delta[1], delta[2:2 + n], delta[2 + n], delta[3 + n], delta[4 + n], delta[5 + n])
        ctl = sum(replicas)
        ours = client + ctl + proxy + workers + pg
        return {"wall": wall / jobs, "client": client / jobs, "controller": ctl / jobs,
                "replicas": [r / jobs for r in replicas], "proxy": proxy / jobs, "workers": workers / jobs,
                "postgres": pg / jobs, "total": ours / jobs, "machine": busy / total if total else 0.0,
                "others": max(0.0, busy - ours) / wall if wall else 0.0}


def env(extra: dict[str, str] | None = None) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("KITGATE_")}
    out.update(RATES, KITGATE_LOG_LEVEL="warning", **(extra or {}))
    return out


def bench_policy_dir(work: Path) -> Path:
    """The shipped policies plus `bench-trusted`: `trusted` without the approval gate (in-process mode)."""
    from kitgate.sandbox.policy import list_policies

    out = work / "policies"
    out.mkdir()
    for p in list_policies():
        (out / f"{p.name}.toml").write_text(p.source)
        if p.name == "trusted":
            text = p.source.replace('name = "trusted"', 'name = "bench-trusted"')
            text = text.replace("requires_approval = true", "requires_approval = false")
            (out / "bench-trusted.toml").write_text(text)
    return out


class Controller:
    """One controller, or `replicas` of them on one PostgreSQL schema behind bench/rr_proxy.py."""

    def __init__(self, work: Path, replicas: int = 1, store: str = "sqlite") -> None:
        self.work = work
        self.policy_dir = bench_policy_dir(work)
        self.extra = {"KITGATE_POLICY_DIR": str(self.policy_dir)}
        self.schema: str | None = None
        self.pg: PgBackends | None = None
        self.procs: list[subprocess.Popen[bytes]] = []
        self.proxy: subprocess.Popen[bytes] | None = None
        self.logs: list[Any] = []
        if store == "postgres":
            self.schema = self._create_schema()
            self.extra.update(KITGATE_DATABASE_URL=f"{PG_URL}?options=-csearch_path%3D{self.schema}",
                              KITGATE_KEYS_DIR=str(work / "keys"))
            for args in (["db", "migrate"], ["init", "--data-dir", str(work / "init")]):
                subprocess.run([KITGATE, *args], capture_output=True, text=True, check=True, env=env(self.extra))
            self.pg = PgBackends(PG_URL, lambda: self.pids)
        self.data_dirs = [work / "data"] if replicas == 1 else [work / f"replica-{i}" / "data" for i in range(replicas)]
        self.data_dir = self.data_dirs[0]
        self.urls = [self._serve(i, d) for i, d in enumerate(self.data_dirs)]
        self.url = self.urls[0] if replicas == 1 else self._start_proxy(self.urls)

    @staticmethod
    def _create_schema() -> str:
        import psycopg

        name = f"bench_{os.getpid()}_{secrets.token_hex(3)}"
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return name

    def _serve(self, i: int, data_dir: Path) -> str:
        port_file = self.work / f"port-{i}"
        log = open(self.work / f"controller-{i}.log", "wb")  # noqa: SIM115
        self.logs.append(log)
        proc = subprocess.Popen(
            [KITGATE, "serve", "--port", "0", "--port-file", str(port_file), "--data-dir", str(data_dir)],
            stdout=log, stderr=log, env=env(self.extra),
        )
        self.procs.append(proc)
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"controller failed to start; see {self.work / f'controller-{i}.log'}")
            time.sleep(0.05)
        url = f"http://127.0.0.1:{int(port_file.read_text())}"
        httpx.get(f"{url}/readyz", timeout=30).raise_for_status()
        return url

    def _start_proxy(self, urls: list[str]) -> str:
        port_file = self.work / "proxy.port"
        self.proxy = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve().parent / "rr_proxy.py"), "--port-file", str(port_file),
             *(u.removeprefix("http://") for u in urls)], env=env(),
        )
        deadline = time.monotonic() + 30
        while not port_file.exists():
            if self.proxy.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("rr_proxy failed to start")
            time.sleep(0.02)
        return f"http://127.0.0.1:{int(port_file.read_text())}"

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def meter(self, workers: list[int]) -> CpuMeter:
        return CpuMeter(self.pids, workers, self.proxy.pid if self.proxy else None, self.pg)

    def log_tail(self) -> str:
        return "\n".join((self.work / f"controller-{i}.log").read_text(errors="replace")[-3000:]
                         for i in range(len(self.procs)))

    def mint(self, *scopes: str) -> str:
        args = [KITGATE, "token", "create", "--data-dir", str(self.data_dir)]
        for s in scopes:
            args += ["--scope", s]
        return subprocess.run(args, capture_output=True, text=True, check=True, env=env(self.extra)).stdout.split()[-1]

    def stop(self) -> None:
        for p in ([self.proxy] if self.proxy else []) + self.procs:
            p.send_signal(signal.SIGTERM)
        for p in ([self.proxy] if self.proxy else []) + self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        for log in self.logs:
            log.close()
        if self.schema:
            import psycopg

            with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


INLINE_WORKER = r"""
import http.client, json, sys, time
from pxr import Usd
from kitgate.sandbox.compile.compiler import compile_source
from kitgate.sandbox.policy import load_policy
from kitgate.sandbox.runtime.hooks import run_guarded

host, port, token, worker_id, policy_dir = sys.argv[1:6]
conn = http.client.HTTPConnection(host, int(port), timeout=60)
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
stage = Usd.Stage.CreateInMemory()
policies = {}
while True:
    conn.request("POST", "/v1/workers/claim?wait_s=20", json.dumps({"worker_id": worker_id}), headers)
    resp = conn.getresponse()
    body = resp.read()
    if resp.status == 204:
        continue
    if resp.status != 200:
        raise SystemExit("claim failed: HTTP %d %s" % (resp.status, body[:300]))
    claim = json.loads(body)
    started = time.time()
    if claim["policy"] not in policies:
        policies[claim["policy"]] = load_policy(claim["policy"], policy_dir)
    policy = policies[claim["policy"]]
    report = run_guarded(compile_source(claim["code"], policy), policy, stage)
    result = {"status": report.status, "worker_id": worker_id, "claim_id": claim["claim_id"],
              "timings": {"started_at": started, "run_ms": report.run_ms}}
    conn.request("POST", "/v1/jobs/%s/result" % claim["job_id"], json.dumps(result), headers)
    conn.getresponse().read()
"""


def start_inline_workers(ctl: Controller, n: int, token: str, tag: str,
                         url: str | None = None) -> list[subprocess.Popen[bytes]]:
    """Fallback without `kitgate worker`: claim -> run_guarded in-process -> report (no envelope check)."""
    host, port = (url or ctl.url).removeprefix("http://").split(":")
    return [
        subprocess.Popen([sys.executable, "-c", INLINE_WORKER, host, port, token, f"inline-{tag}-{i}",
                          str(ctl.policy_dir)], env=env())
        for i in range(n)
    ]


def start_workers(ctl: Controller, n: int, token_file: Path, tag: str,
                  url: str | None = None) -> list[subprocess.Popen[bytes]]:
    procs = []
    for i in range(n):
        stage = ctl.work / f"stage-{tag}-{i}.usda"
        log = open(ctl.work / f"worker-{tag}-{i}.log", "wb")  # noqa: SIM115
        procs.append(subprocess.Popen(
            [KITGATE, "worker", "--controller", url or ctl.url, "--token-file", str(token_file), "--stage", str(stage),
             "--state-dir", str(ctl.work / f"state-{tag}-{i}"), "--worker-id", f"bench-{tag}-{i}",
             "--policy-dir", str(ctl.policy_dir), "--poll-wait", "20", "--log-level", "warning"],
            stdout=log, stderr=log, env=env(),
        ))
    return procs


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()


class LeanClient:
    """Submit-and-wait over one keep-alive stdlib connection.

    Why not httpx (what `kitgate.client` uses): it costs ~1.5-2.5 ms CPU per request on this VM, as much
    as the controller's whole share of a job, and this process is the load generator, not the thing
    measured. Its CPU is still counted (column `client`).
    """

    def __init__(self, url: str, token: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=90)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def submit_wait(self, policy: str) -> tuple[float, dict[str, Any]]:
        payload = json.dumps({"code": TRIVIAL, "policy": policy, "wait_s": 60})
        t0 = time.perf_counter()
        try:
            self.conn.request("POST", "/v1/jobs", payload, self.headers)
            resp = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # The server closed this keep-alive connection while it sat idle (a soak's client threads
            # wait between jobs): send again once on a new one, as the worker's transport does.
            self.conn.close()
            self.conn.request("POST", "/v1/jobs", payload, self.headers)
            resp = self.conn.getresponse()
        raw = resp.read()
        elapsed = time.perf_counter() - t0
        body = json.loads(raw)
        if resp.status != 200 or body.get("status") != "succeeded":
            raise SystemExit(f"job did not succeed: {resp.status} {str(body)[:400]}")
        return elapsed, body

    def close(self) -> None:
        self.conn.close()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def worker_kind(policy_dir: Path, policy: str, worker: str) -> str:
    """What actually runs a job under `policy`: names every table, so no number loses its context."""
    from kitgate.sandbox.policy import load_policy

    mode = load_policy(policy, policy_dir).mode
    if worker != "kitgate":  # the bench's inline loop calls run_guarded itself: never a child process
        return f"inline claim/run/report loop, run_guarded in its own process (no envelope check; policy mode {mode} " \
               "not applied)"
    where = "isolated child per job" if mode == "isolated" else "in-process executor"
    return f"kitgate worker, {where} (mode {mode})"


class Bridge:
    """The bare socket exec bridge as its own process, so its CPU is counted like the controller's."""

    def __init__(self, work: Path) -> None:
        port_file = work / "bridge.port"
        self.log = open(work / "bridge.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve().parent / "exec_bridge.py"),
                                      "--port-file", str(port_file)], stdout=self.log, stderr=self.log, env=env())
        deadline = time.monotonic() + 60
        while not port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"exec bridge failed to start; see {work / 'bridge.log'}")
            time.sleep(0.02)
        self.port = int(port_file.read_text())

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def threads_cpu(pid: int) -> float:
    """CPU seconds of a process's live threads in ns resolution (/proc/<pid>/task/*/schedstat).

    The bridge spends ~0.1 ms per job: the 10 ms ticks of /proc/<pid>/stat cannot see that.
    """
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def _bridge_one(c: BridgeClient) -> float:
    t0 = time.perf_counter()
    answer = c.run(TRIVIAL)
    elapsed = time.perf_counter() - t0
    if answer.get("status") != "succeeded":
        raise SystemExit(f"bridge job failed: {answer}")
    return elapsed


def bridge_latency(bridge: Bridge, jobs: int) -> dict[str, Any]:
    """Sequential requests on one connection, like `latency_run`; CPU read per thread in ns."""
    c = BridgeClient(bridge.port)
    try:
        for _ in range(20):
            _bridge_one(c)
        cpu0 = threads_cpu(bridge.proc.pid)
        lat = [_bridge_one(c) for _ in range(jobs)]
        cpu = (threads_cpu(bridge.proc.pid) - cpu0) / jobs  # read while the handler thread is alive
    finally:
        c.close()
    return {"p50": pct(lat, 50), "p90": pct(lat, 90), "p99": pct(lat, 99), "cpu": cpu}


def bridge_throughput(bridge: Bridge, jobs: int, concurrency: int) -> dict[str, Any]:
    return closed_loop(lambda: BridgeClient(bridge.port), _bridge_one, jobs, concurrency,
                       lambda: CpuMeter(bridge.proc.pid, []))


def closed_loop(
    connect: Callable[[], Any], one: Callable[[Any], float], jobs: int, concurrency: int,
    meter_factory: Callable[[], CpuMeter],
) -> dict[str, Any]:
    """`concurrency` threads, each on its own connection, run `jobs` requests in total back to back."""
    remaining = [jobs]
    lock = threading.Lock()
    errors: list[BaseException] = []
    lat: list[float] = []

    def loop() -> None:
        c = connect()
        try:
            while True:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                try:
                    lat.append(one(c))
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)
                    return
        finally:
            c.close()

    threads = [threading.Thread(target=loop) for _ in range(concurrency)]
    meter = meter_factory()
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    cpu = meter.per_job(jobs)
    if errors:
        raise SystemExit(f"throughput run failed: {errors[0]}")
    return {"rate": jobs / elapsed, "p50": pct(lat, 50), "p99": pct(lat, 99), "cpu": cpu}


def latency_run(ctl: Controller, token: str, policy: str, jobs: int, workers: list[int],
                url: str | None = None) -> dict[str, Any]:
    lat, queue, worker, server, to_start, start_to_stored, run = [], [], [], [], [], [], []
    c = LeanClient(url or ctl.url, token)
    try:
        for _ in range(20):  # warm-up: fork server, caches, connections
            c.submit_wait(policy)
        meter = ctl.meter(workers)
        for _ in range(jobs):
            elapsed, job = c.submit_wait(policy)
            lat.append(elapsed)
            queue.append(job["claimed_at"] - job["queued_at"])
            worker.append(job["finished_at"] - job["claimed_at"])
            server.append(job["finished_at"] - job["created_at"])
            timings = (job.get("result") or {}).get("timings") or {}
            if job.get("started_at"):
                to_start.append(job["started_at"] - job["claimed_at"])
                start_to_stored.append(job["finished_at"] - job["started_at"])
            run.append((timings.get("run_ms") or 0.0) / 1000 + (timings.get("compile_ms") or 0.0) / 1000)
        cpu = meter.per_job(jobs)
    finally:
        c.close()
    return {
        "p50": pct(lat, 50), "p90": pct(lat, 90), "p99": pct(lat, 99), "mean": statistics.fmean(lat),
        "queue": statistics.median(queue), "worker": statistics.median(worker), "server": statistics.median(server),
        "to_start": statistics.median(to_start or [0.0]),
        "start_to_stored": statistics.median(start_to_stored or [0.0]),
        "run": statistics.median(run), "cpu": cpu,
    }


def throughput_run(
    ctl: Controller, token: str, policy: str, jobs: int, concurrency: int, workers: list[int]
) -> dict[str, Any]:
    def one(c: LeanClient) -> float:
        return c.submit_wait(policy)[0]

    return closed_loop(lambda: LeanClient(ctl.url, token), one, jobs, concurrency, lambda: ctl.meter(workers))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=500, help="jobs per measurement (>= 500 for the record)")
    ap.add_argument("--policy", default="scene-edit",
                    help="scene-edit (default user policy) = isolated child per job; "
                         "bench-trusted = trusted without approval = in-process executor")
    ap.add_argument("--concurrency", type=int, default=16, help="client threads in the throughput runs")
    ap.add_argument("--worker", choices=("kitgate", "inline"), default="kitgate",
                    help="kitgate = real `kitgate worker` processes; inline = minimal claim/run_guarded/report loop")
    ap.add_argument("--no-bridge", action="store_true", help="skip the bare socket exec bridge baseline")
    ap.add_argument("--replicas", type=int, choices=(1, 2), default=1,
                    help="controller replicas; 2 = behind bench/rr_proxy.py (needs --store postgres)")
    ap.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite",
                    help="sqlite = the data dir's file (default); postgres = a fresh schema at KG_BENCH_PG_URL")
    args = ap.parse_args()
    if args.replicas > 1 and args.store != "postgres":
        ap.error("--replicas 2 needs --store postgres: SQLite is one controller per file")
    load_before = os.getloadavg()
    speed = python_speed()
    bridge_lat: dict[str, Any] | None = None
    bridge_after: dict[str, Any] | None = None
    bridge_tput: dict[str, Any] | None = None

    with tempfile.TemporaryDirectory(prefix="kitgate-bench-") as tmp:
        work = Path(tmp)
        # The bridge is measured before and after kitgate (same run), so a load change during the run
        # shows as a difference between the two instead of skewing the ratio unseen.
        bridge = None if args.no_bridge else Bridge(work)
        if bridge is not None:
            try:
                bridge_lat = bridge_latency(bridge, args.jobs)
                bridge_tput = bridge_throughput(bridge, args.jobs, args.concurrency)
            except BaseException:
                bridge.stop()
                raise
        ctl = Controller(work, args.replicas, args.store)
        try:
            kind = worker_kind(ctl.policy_dir, args.policy, args.worker)
            operator = ctl.mint("jobs:submit", "jobs:read")
            token_file = work / "worker.token"
            token_file.write_text(ctl.mint("worker") + "\n")
            token_file.chmod(0o600)

            def start(n: int, tag: str, url: str | None = None) -> list[subprocess.Popen[bytes]]:
                if args.worker == "inline":
                    return start_inline_workers(ctl, n, token_file.read_text().strip(), tag, url)
                return start_workers(ctl, n, token_file, tag, url)

            # with 2 replicas the latency worker talks to replica A and the latency client to replica B, so
            # every job crosses replicas twice (submit on B wakes the worker on A; its report on A answers the
            # client's wait_s on B); the throughput runs go through the proxy
            one = start(1, "a", ctl.urls[0])
            pids = [p.pid for p in one]
            lat = latency_run(ctl, operator, args.policy, args.jobs, pids, ctl.urls[-1])
            tput1 = throughput_run(ctl, operator, args.policy, args.jobs, args.concurrency, pids)
            stop_workers(one)
            four = start(4, "b")
            pids = [p.pid for p in four]
            throughput_run(ctl, operator, args.policy, 40, args.concurrency, pids)  # warm-up the new workers
            tput4 = throughput_run(ctl, operator, args.policy, args.jobs, args.concurrency, pids)
            stop_workers(four)
        except SystemExit:
            print(ctl.log_tail(), file=sys.stderr)
            raise
        finally:
            ctl.stop()
            if bridge is not None:
                try:
                    bridge_after = bridge_latency(bridge, args.jobs)
                finally:
                    bridge.stop()

    ms = 1000.0
    load_after = os.getloadavg()
    label = f"policy {args.policy}; {kind}; {args.replicas} replica(s), {args.store}"
    print(f"kitgate end-to-end: {args.jobs} trivial jobs, {os.cpu_count()} cores, loopback")
    print(f"policy {args.policy}, worker kind: {kind}")
    print(f"store {args.store}, {args.replicas} controller replica(s)"
          + (" behind bench/rr_proxy.py (per-connection round robin); latency: worker on replica A, client on "
             "replica B (every job crosses replicas both ways)" if args.replicas > 1 else ""))
    print(f"python speed {speed:.0f} ns per `total += i` loop step (compare machines and runs with it)")
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    print()
    print(f"[{label}]")
    print(f"{'measure':44} {'value':>10}")
    print(f"{'latency p50 (submit -> result visible)':44} {lat['p50'] * ms:>8.2f} ms")
    print(f"{'latency p90':44} {lat['p90'] * ms:>8.2f} ms")
    print(f"{'latency p99':44} {lat['p99'] * ms:>8.2f} ms")
    print(f"{'  median queue wait (queued -> claimed)':44} {lat['queue'] * ms:>8.2f} ms")
    print(f"{'  median worker (claimed -> reported)':44} {lat['worker'] * ms:>8.2f} ms")
    print(f"{'    claimed -> started (response, journal, verify)':44} {lat['to_start'] * ms:>8.2f} ms")
    print(f"{'    started -> stored (run, outbox, report)':44} {lat['start_to_stored'] * ms:>8.2f} ms")
    print(f"{'    of which compile + run (sandbox)':44} {lat['run'] * ms:>8.2f} ms")
    print(f"{'  median in controller (created -> stored)':44} {lat['server'] * ms:>8.2f} ms")
    print(f"{'throughput, 1 worker':44} {tput1['rate']:>8.0f} jobs/s")
    print(f"{'throughput, 4 workers':44} {tput4['rate']:>8.0f} jobs/s")
    print(f"{'  4 workers: latency p50 / p99':44} {tput4['p50'] * ms:>8.1f} / {tput4['p99'] * ms:.1f} ms")
    print()
    print(f"CPU time per job, ms [{label}] (from /proc; wall = elapsed time per job; the gap to 'total' is")
    print("waiting). workers = each worker with its fork server and children. busy = the whole machine's CPU")
    print("use during the run (all cores); others = cores used by everything else during the run.")
    print("controller = all replicas; proxy = bench/rr_proxy.py; postgres = the server processes serving the")
    print("replicas' connections (0 with SQLite).")
    print(f"{'run':22} {'client':>8} {'controller':>11} {'proxy':>6} {'workers':>8} {'postgres':>9} {'total':>8} "
          f"{'wall':>8} {'busy':>6} {'others':>7}")
    runs = (("latency, 1 worker", lat), ("throughput, 1 worker", tput1), ("throughput, 4 workers", tput4))
    for name, run in runs:
        c = run["cpu"]
        print(f"{name:22} {c['client'] * ms:>8.2f} {c['controller'] * ms:>11.2f} {c['proxy'] * ms:>6.2f} "
              f"{c['workers'] * ms:>8.2f} {c['postgres'] * ms:>9.2f} {c['total'] * ms:>8.2f} {c['wall'] * ms:>8.2f} "
              f"{c['machine'] * 100:>5.0f}% {c['others']:>7.2f}")
    if args.replicas > 1:
        print("per replica, ms CPU per job: " + "; ".join(
            f"{name}: " + " / ".join(f"{r * ms:.2f}" for r in run["cpu"]["replicas"]) for name, run in runs))
    if bridge_lat is None or bridge_tput is None or bridge_after is None:
        return
    before_p50 = bridge_lat["p50"]
    bridge_lat = {k: (bridge_lat[k] + bridge_after[k]) / 2 for k in ("p50", "p90", "p99", "cpu")}
    print()
    print(f"Baseline: bare socket exec bridge vs kitgate [{label}]")
    print("(bench/exec_bridge.py: no auth, no checks, no isolation, no journal; same machine, same run, same")
    print(" client pattern: one keep-alive connection per client thread)")
    print("(ratio = how many times kitgate's cost is the bridge's: time or CPU per job, or jobs/s the bridge")
    print(" does per kitgate job/s; the bridge is one process, kitgate is a controller and 4 workers)")
    print(f"{'measure':44} {'bridge':>10} {'kitgate':>10} {'ratio':>8}")
    rows = (("latency p50, ms", bridge_lat["p50"] * ms, lat["p50"] * ms, False),
            ("latency p99, ms", bridge_lat["p99"] * ms, lat["p99"] * ms, False),
            (f"throughput, jobs/s, {args.concurrency} clients", bridge_tput["rate"], tput4["rate"], True),
            ("CPU per job, serving processes, ms (latency)",
             bridge_lat["cpu"] * ms, (lat["cpu"]["controller"] + lat["cpu"]["workers"]) * ms, False))
    for name, base, ours, inverse in rows:
        ratio = (base / ours if ours else float("inf")) if inverse else (ours / base if base else float("inf"))
        print(f"{name:44} {base:>10.3f} {ours:>10.2f} {ratio:>7.0f}x")
    print(f"bridge p50 before / after the kitgate runs: {before_p50 * ms:.3f} / {bridge_after['p50'] * ms:.3f} ms "
          "(the bridge column is their mean)")
    print(f"cost of safety [{label}]: kitgate p50 = {lat['p50'] / bridge_lat['p50']:.0f} x the bare exec "
          f"bridge's p50 ({lat['p50'] * ms:.2f} ms vs {bridge_lat['p50'] * ms:.3f} ms)")


if __name__ == "__main__":
    main()
