"""Soak: the real controller and 4 real workers under a steady offered load, watched for growth.

Why: a leak (an unbounded cache, a WAL that is never checkpointed, an fd per job) does not show in a
500-job benchmark but does after an hour of an agent working. This runs `kitgate serve` and
`kitgate worker` processes (the same set-up as bench/e2e_latency.py, rate limits raised out of the
way) for `--duration` seconds at `--rate` jobs/s and reports, after a warm-up, at every interval and
at the end: p50/p99 over the interval, RSS of each process (controller; each worker; its fork server
and children summed), open fds per process, the SQLite file and WAL sizes, and job counts by status.

Open loop: job i is due at start + i/rate whatever happened to job i-1, and its latency is counted
from when it was due, so a slow answer never lowers the offered load or hides itself (no coordinated
omission). A pool of client threads, each with its own keep-alive connection, sends due jobs.

The start and end resource samples are taken with the load paused for a moment (`--settle`), so
in-flight connections and spare children do not blur the comparison. Verdict (issue 18): RSS growth
< 10% per process, no fd growth, end p50 within 20% of the start p50.

    .venv/bin/python bench/soak.py                       # 10 minutes, the record
    .venv/bin/python bench/soak.py --duration 60         # short mode
    .venv/bin/python bench/soak.py --duration 180 --rate 40 --policy bench-trusted
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e_latency import (  # noqa: E402 - bench/ is a directory of scripts, not a package
    Controller,
    LeanClient,
    pct,
    start_workers,
    stop_workers,
    tree_cpu,
    worker_kind,
)

PAGE = os.sysconf("SC_PAGE_SIZE")


# -- process facts from /proc ------------------------------------------------------------------------
def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(raw[raw.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def descendants(root: int, kids: dict[int, list[int]]) -> list[int]:
    out, frontier = [], list(kids.get(root, []))
    while frontier:
        pid = frontier.pop()
        out.append(pid)
        frontier.extend(kids.get(pid, []))
    return out


def rss_kb(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE // 1024
    except (OSError, IndexError, ValueError):
        return 0


def fd_count(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


@dataclass
class ProcSample:
    rss_kb: int
    fds: int
    child_rss_kb: int = 0  # fork server + spare/job children, summed (shared pages counted in each)
    child_fds: int = 0
    children: int = 0
    server_rss_kb: int = 0  # the worker's direct children: its long-lived fork server
    server_fds: int = 0
    kid_rss_kb: int = 0  # the largest single-use child (spare or job): a fresh fork, it shows the server's image


@dataclass
class Sample:
    t: float  # seconds since the load started
    label: str
    procs: dict[str, ProcSample]
    db_bytes: int
    wal_bytes: int
    statuses: dict[str, int]
    state: tuple[int, int] = (0, 0)  # files, bytes in the workers' state dirs (journal, outbox, markers)
    window: list[float] = field(default_factory=list)  # latencies (s) of jobs finished in the interval
    offered: int = 0
    errors: int = 0
    backlog: int = 0  # due jobs waiting for a free client thread: > 0 means the offered load is too high
    cpu: tuple[float, float] = (0.0, 0.0)  # CPU seconds so far: controller, workers with their children
    load: float = 0.0  # 1-minute load average


def sample_procs(controller: int, workers: list[int]) -> dict[str, ProcSample]:
    kids = _children_map()
    out = {"controller": ProcSample(rss_kb(controller), fd_count(controller))}
    for i, pid in enumerate(workers):
        sub = descendants(pid, kids)
        servers = kids.get(pid, [])
        single_use = [c for c in sub if c not in servers]
        out[f"worker-{i}"] = ProcSample(rss_kb(pid), fd_count(pid), sum(rss_kb(c) for c in sub),
                                        sum(fd_count(c) for c in sub), len(sub),
                                        sum(rss_kb(c) for c in servers), sum(fd_count(c) for c in servers),
                                        max((rss_kb(c) for c in single_use), default=0))
    return out


def job_statuses(db: Path) -> dict[str, int]:
    """Counts by status, read straight from the SQLite file (read-only; closed at once so no snapshot
    is held open to stop a checkpoint)."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error:
        return {}
    try:
        return {str(s): int(n) for s, n in conn.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status")}
    except sqlite3.Error:
        return {}
    finally:
        conn.close()


def dir_usage(roots: list[Path]) -> tuple[int, int]:
    files = size = 0
    for root in roots:
        for path in root.rglob("*"):
            with contextlib.suppress(OSError):
                if path.is_file():
                    files += 1
                    size += path.stat().st_size
    return files, size


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# -- open-loop load ----------------------------------------------------------------------------------
class Load:
    """Job i is due at t0 + i/rate; client threads send due jobs; latency counts from the due time."""

    def __init__(self, url: str, token: str, policy: str, rate: float, clients: int) -> None:
        self.url, self.token, self.policy, self.rate = url, token, policy, rate
        self.due: queue.Queue[float | None] = queue.Queue()
        self.lock = threading.Lock()
        self.done: list[tuple[float, float]] = []  # (finished at, latency from due time)
        self.errors: list[str] = []
        self.offered = 0
        self.dropped = 0  # due jobs never sent because the load was paused or stopped behind a backlog
        self.running = threading.Event()
        self.running.set()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]
        self.scheduler = threading.Thread(target=self._schedule, daemon=True)

    def start(self) -> None:
        for t in self.threads:
            t.start()
        self.scheduler.start()

    def pause(self) -> None:
        """Stop offering new jobs, drop the ones not sent yet (an overload backlog; counted), and wait
        until the ones in flight are answered."""
        self.running.clear()
        self._drain()
        while self.due.unfinished_tasks:
            time.sleep(0.01)

    def _drain(self) -> None:
        while True:
            try:
                self.due.get_nowait()
            except queue.Empty:
                return
            self.dropped += 1
            self.due.task_done()

    def resume(self) -> None:
        self.running.set()

    def _schedule(self) -> None:
        t0, i = time.monotonic(), 0
        while not self.stop.is_set():
            if not self.running.is_set():
                self.running.wait()
                t0, i = time.monotonic(), 0  # a pause is not a backlog: restart the clock
            due = t0 + i / self.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(min(delay, 0.05))
                continue
            self.due.put(due)
            self.offered += 1
            i += 1

    def _client(self) -> None:
        c = LeanClient(self.url, self.token)
        try:
            while True:
                due = self.due.get()
                try:
                    if due is None:
                        return
                    try:
                        c.submit_wait(self.policy)
                    except BaseException as exc:  # noqa: BLE001 - counted and reported, the soak goes on
                        with self.lock:
                            self.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                        c.close()
                        c = LeanClient(self.url, self.token)
                        continue
                    now = time.monotonic()
                    with self.lock:
                        self.done.append((now, now - due))
                finally:
                    self.due.task_done()
        finally:
            c.close()

    def take(self) -> tuple[list[float], int]:
        with self.lock:
            done, self.done = self.done, []
            errors = len(self.errors)
        return [lat for _, lat in done], errors

    def close(self) -> None:
        self.stop.set()
        self.running.set()
        self.scheduler.join(5)
        self._drain()
        for _ in self.threads:
            self.due.put(None)
        for t in self.threads:
            t.join(120)


# -- report ------------------------------------------------------------------------------------------
def mb(kb: int) -> str:
    return f"{kb / 1024:.1f}"


def cpu_per_job(prev: Sample, cur: Sample) -> tuple[float, float] | None:
    """(controller, workers) CPU ms per finished job between two samples: what a job costs, whatever the
    machine's load (p50 moves with other processes' CPU use, this does not)."""
    jobs = sum(cur.statuses.values()) - sum(prev.statuses.values())
    if jobs <= 0:
        return None
    return ((cur.cpu[0] - prev.cpu[0]) / jobs * 1000, (cur.cpu[1] - prev.cpu[1]) / jobs * 1000)


def print_sample(s: Sample, seconds: float = 0.0, prev: Sample | None = None) -> None:
    lat = s.window
    p50 = f"{pct(lat, 50) * 1000:.2f}" if lat else "-"
    p99 = f"{pct(lat, 99) * 1000:.2f}" if lat else "-"
    statuses = " ".join(f"{k}={v}" for k, v in sorted(s.statuses.items()))
    rate = f" ({len(lat) / seconds:.1f}/s)" if seconds else ""
    print(f"[{s.label} t={s.t:7.1f}s] window jobs={len(lat)}{rate} p50={p50} ms p99={p99} ms errors={s.errors} "
          f"backlog={s.backlog} | "
          f"db {s.db_bytes / 1e6:.2f} MB wal {s.wal_bytes / 1e6:.2f} MB | worker state {s.state[0]} files "
          f"{s.state[1] / 1e3:.0f} kB | {statuses}", flush=True)
    per_job = cpu_per_job(prev, s) if prev is not None else None
    if per_job is not None:
        print(f"    CPU per job: controller {per_job[0]:.2f} ms, workers {per_job[1]:.2f} ms; "
              f"load average {s.load:.2f}", flush=True)
    parts = []
    for name, p in s.procs.items():
        kids = f" +{p.children} kids {mb(p.child_rss_kb)} MB/{p.child_fds} fds" if p.children else ""
        parts.append(f"{name} {mb(p.rss_kb)} MB/{p.fds} fds{kids}")
    print("    " + "; ".join(parts), flush=True)


def verdict(start: Sample, end: Sample, start_lat: list[float], end_lat: list[float], history: list[Sample]) -> bool:
    ok = True
    print()
    print(f"{'process':22} {'RSS start':>10} {'RSS end':>10} {'growth':>8} {'fds start':>10} {'fds end':>8}")
    print("(N:server = worker N's fork server; N:child = its largest single-use child, a fresh fork each job;")
    print(" N:all kids = fork server and children summed, shared pages counted in each: the count of children")
    print(" in flight moves it, so it is shown, not judged)")
    for name, a in start.procs.items():
        b = end.procs.get(name, ProcSample(0, 0))
        rows = [(name, a.rss_kb, b.rss_kb, a.fds, b.fds, True)]
        if a.children or b.children:
            n = name.rsplit("-", 1)[-1]
            rows += [(f"  {n}:server", a.server_rss_kb, b.server_rss_kb, a.server_fds, b.server_fds, True),
                     (f"  {n}:child", a.kid_rss_kb, b.kid_rss_kb, 0, 0, True),
                     (f"  {n}:all kids ({a.children}->{b.children})", a.child_rss_kb, b.child_rss_kb, a.child_fds,
                      b.child_fds, False)]
        for label, r0, r1, f0, f1, judged in rows:
            growth = (r1 - r0) / r0 if r0 else 0.0
            bad = judged and (growth >= 0.10 or f1 > f0)
            ok &= not bad
            print(f"{label:22} {mb(r0):>7} MB {mb(r1):>7} MB {growth * 100:>7.1f}% {f0:>10} {f1:>8}"
                  f"{'  <- GROWTH' if bad else ''}")
    p50a, p50b = pct(start_lat, 50), pct(end_lat, 50)
    drift = (p50b - p50a) / p50a if p50a else 0.0
    lat_ok = drift <= 0.20
    ok &= lat_ok
    print(f"p50 start {p50a * 1000:.2f} ms (p99 {pct(start_lat, 99) * 1000:.2f}), end {p50b * 1000:.2f} ms "
          f"(p99 {pct(end_lat, 99) * 1000:.2f}): {drift * 100:+.1f}%{'' if lat_ok else '  <- SLOWER'}")
    wal_ok = end.wal_bytes <= max(start.wal_bytes * 1.1, 12e6)  # a checkpoint interval + journal_size_limit
    ok &= wal_ok
    jobs = max(1, sum(end.statuses.values()) - sum(start.statuses.values()))
    print(f"SQLite: db {start.db_bytes / 1e6:.2f} -> {end.db_bytes / 1e6:.2f} MB (grows with the job history, "
          f"{(end.db_bytes - start.db_bytes) / jobs / 1e3:.2f} kB per job: jobs are kept), "
          f"WAL {start.wal_bytes / 1e6:.2f} -> {end.wal_bytes / 1e6:.2f} MB{'' if wal_ok else '  <- GROWTH'}")
    print(f"worker state dirs: {start.state[0]} -> {end.state[0]} files, {start.state[1] / 1e3:.0f} -> "
          f"{end.state[1] / 1e3:.0f} kB (replay-marker day logs grow ~30 bytes per job until the day ends)")
    first = cpu_per_job(history[0], history[1]) if len(history) > 2 else None
    last = cpu_per_job(history[-3], history[-2]) if len(history) > 2 else None
    if first and last:
        print(f"CPU per job, first interval -> last: controller {first[0]:.2f} -> {last[0]:.2f} ms, workers "
              f"{first[1]:.2f} -> {last[1]:.2f} ms (load average {history[1].load:.2f} -> {history[-2].load:.2f})")
        flat_cpu = sum(last) <= 1.2 * sum(first)
        if not lat_ok and flat_cpu:
            print("  p50 moved while CPU per job stayed flat: waiting for a CPU (other processes), not growth")
        elif not flat_cpu:
            print("  CPU per job grew by more than 20%: something costs more as the run goes on")
    print(f"VERDICT: {'FLAT' if ok else 'GROWTH FOUND'} (targets: RSS growth < 10% per process, no fd growth, "
          f"end p50 within 20% of start, WAL bounded)")
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=600.0, help="seconds of measured load after warm-up")
    ap.add_argument("--rate", type=float, default=50.0, help="offered jobs/s (open loop)")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--clients", type=int, default=32, help="client threads sending due jobs")
    ap.add_argument("--policy", default="scene-edit", help="scene-edit (isolated, default) or bench-trusted")
    ap.add_argument("--warmup", type=float, default=None, help="seconds (default: 10%% of duration, 5-60 s)")
    ap.add_argument("--interval", type=float, default=None, help="seconds between reports (default: duration/10)")
    ap.add_argument("--settle", type=float, default=2.0, help="idle seconds before the start and end samples")
    args = ap.parse_args()
    # Default warm-up: a tenth of the run, 5-60 s. Long enough at 50 jobs/s for the controller's bounded
    # structures (the live-event ring holds 4096 events, ~3 per job) to fill before the start sample.
    warmup = args.warmup if args.warmup is not None else min(60.0, max(5.0, args.duration / 10))
    interval = args.interval if args.interval is not None else max(5.0, args.duration / 10)

    with tempfile.TemporaryDirectory(prefix="kitgate-soak-") as tmp:
        work = Path(tmp)
        ctl = Controller(work)
        workers: list[subprocess.Popen[bytes]] = []
        load: Load | None = None
        ok = False
        try:
            kind = worker_kind(ctl.policy_dir, args.policy, "kitgate")
            print(f"soak: policy {args.policy}; {args.workers} x {kind}; offered {args.rate:g} jobs/s open loop; "
                  f"{args.duration:g} s after {warmup:g} s warm-up; {os.cpu_count()} cores; "
                  f"load average {os.getloadavg()[0]:.2f}", flush=True)
            operator = ctl.mint("jobs:submit", "jobs:read")
            token_file = work / "worker.token"
            token_file.write_text(ctl.mint("worker") + "\n")
            token_file.chmod(0o600)
            workers = start_workers(ctl, args.workers, token_file, "soak")
            pids = [p.pid for p in workers]
            db = ctl.data_dir / "kitgate.sqlite3"
            wal = db.with_name(db.name + "-wal")
            state_dirs = [work / f"state-soak-{i}" for i in range(args.workers)]

            def sample(label: str, t: float, window: list[float] | None = None) -> Sample:
                errors = len(load.errors) if load else 0
                return Sample(t, label, sample_procs(ctl.proc.pid, pids), file_size(db), file_size(wal),
                              job_statuses(db), dir_usage(state_dirs), window or [], load.offered if load else 0,
                              errors, load.due.qsize() if load else 0,
                              (tree_cpu(ctl.proc.pid), sum(tree_cpu(w) for w in pids)), os.getloadavg()[0])

            first = LeanClient(ctl.url, operator)
            try:  # the workers are up and their fork servers warm before the offered load starts
                for _ in range(5 * args.workers):
                    first.submit_wait(args.policy)
            finally:
                first.close()
            load = Load(ctl.url, operator, args.policy, args.rate, args.clients)
            load.start()
            time.sleep(warmup)
            load.pause()
            time.sleep(args.settle)
            load.take()
            load.dropped = 0  # a backlog left by the warm-up is not the measured run's
            start = sample("start", 0.0)
            print_sample(start)
            load.resume()
            t0 = time.monotonic()
            end_at = t0 + args.duration
            windows: list[list[float]] = []
            history: list[Sample] = [start]
            last = 0.0
            while True:
                now = time.monotonic()
                if now >= end_at:
                    break
                time.sleep(min(interval, end_at - now))
                lat, _ = load.take()
                windows.append(lat)
                t = time.monotonic() - t0
                history.append(sample("interval", t, lat))
                print_sample(history[-1], t - last, history[-2])
                last = t
            load.pause()
            lat, _ = load.take()
            if lat:
                windows[-1].extend(lat)
            time.sleep(args.settle)
            end = sample("end", time.monotonic() - t0, windows[-1] if windows else [])
            history.append(end)
            print_sample(end)
            start_lat = windows[0] if windows else []
            end_lat = windows[-1] if windows else []
            if load.errors:
                print(f"{len(load.errors)} failed requests; first: {load.errors[0]}")
            if load.dropped or max(s.backlog for s in history) > args.rate:
                print(f"OVERLOADED: the offered {args.rate:g} jobs/s was more than this machine carried (backlog up to "
                      f"{max(s.backlog for s in history)}, {load.dropped} due jobs dropped at the pauses); latencies "
                      f"include client-side queueing. Re-run with a lower --rate.")
            if not start_lat or not end_lat:
                raise SystemExit("no jobs finished in the first or last interval")
            ok = verdict(start, end, start_lat, end_lat, history) and not load.errors
        except SystemExit:
            print((work / "controller.log").read_text(errors="replace")[-4000:], file=sys.stderr)
            raise
        finally:
            if load is not None:
                with contextlib.suppress(Exception):
                    load.close()
            stop_workers(workers)
            ctl.stop()
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
