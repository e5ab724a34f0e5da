"""Scale-out harness: controller replicas on one store behind a round-robin proxy, with real workers.

Why real processes: the races these tests close (double claim, double report, cancel vs claim, duplicate
idempotency keys, a forked audit chain) only exist between two `kitgate serve` processes that share a
PostgreSQL schema, and the faults (a replica SIGKILLed, Redis or PostgreSQL going away) only mean something
to processes that can die. Each test module gets its own PostgreSQL schema (dropped afterwards), one shared
keys dir, and replicas with DIFFERENT data dirs but the same KITGATE_DATABASE_URL and KITGATE_KEYS_DIR, so
nothing a replica keeps on its own disk can make the others work.

`KG_SCALEOUT_STORE=sqlite` runs the same harness on ONE SQLite replica behind the proxy (the embedded
default has one controller per file): a baseline, and a way to debug the harness without PostgreSQL.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import pg_schema
from harness import FAST_ENV, ControllerProcess, ManagedProcess, run_kitgate
from worker_harness import WorkerProcess

REPO = Path(__file__).resolve().parents[2]
PROXY_SCRIPT = REPO / "bench" / "rr_proxy.py"
STORE = os.environ.get("KG_SCALEOUT_STORE", "postgres")
TRIVIAL = "x = 1\n"


# ---- processes -----------------------------------------------------------------------------------------------
class ProxyProcess(ManagedProcess):
    """bench/rr_proxy.py as its own process (its CPU is not the test's, and the test's GIL is not its)."""

    def __init__(self, work: Path, backends: list[int]) -> None:
        self.port_file = work / "proxy.port"
        self.log_path = work / "proxy.log"
        log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, str(PROXY_SCRIPT), "--port-file", str(self.port_file),
             *(f"127.0.0.1:{p}" for p in backends)],
            stdout=log, stderr=log, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 30
        while not self.port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"proxy did not start: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.02)
        self.port = int(self.port_file.read_text())
        self.url = f"http://127.0.0.1:{self.port}"

    def kill(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None
        self.proc.kill()
        return self.proc.wait(10)


class Cluster:
    """N replicas + proxy on one store; tokens minted offline against that store (the shared keys)."""

    def __init__(self, work: Path, replicas: int, env: dict[str, str]) -> None:
        self.work = work
        self.env = {**FAST_ENV, **env}
        self.data_dirs = [work / f"replica-{i}" / "data" for i in range(replicas)]
        self.replicas: list[ControllerProcess] = []
        self.workers: list[WorkerProcess] = []
        self.proxy: ProxyProcess | None = None

    def start(self) -> Cluster:
        for i in range(len(self.data_dirs)):
            # same_port: a restarted replica comes back where the proxy sends its connections
            self.replicas.append(ControllerProcess(self.work / f"replica-{i}", env=self.env, same_port=True))
        self.proxy = ProxyProcess(self.work, [r.port for r in self.replicas if r.port is not None])
        return self

    # ---- store-wide CLI (any replica's data dir would do on PostgreSQL: the state is shared) ------------------
    def cli(self, *args: str, check: bool = True, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        return run_kitgate(args, env=self.env, check=check, timeout=timeout)

    def mint(self, *scopes: str, sub: str | None = None) -> str:
        args = ["token", "create", "--data-dir", str(self.data_dirs[0]), "--sub",
                sub or f"t-{secrets.token_hex(5)}"]
        for s in scopes:
            args += ["--scope", s]
        return self.cli(*args).stdout.split()[-1]

    def token_file(self, *scopes: str) -> Path:
        path = self.work / f"token-{secrets.token_hex(4)}"
        path.write_text(self.mint(*scopes) + "\n")
        path.chmod(0o600)
        return path

    # ---- access ---------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self.proxy is not None
        return self.proxy.url

    def client(self, token: str, url: str | None = None, timeout: float = 60.0) -> httpx.Client:
        return httpx.Client(base_url=url or self.url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)

    def start_workers(self, n: int, tag: str, **kwargs: Any) -> list[WorkerProcess]:
        """`n` real `kitgate worker` processes pointed at the proxy, each with its own stage and state dir."""
        token = self.token_file("worker")
        out = [WorkerProcess(self.url, token, self.work / f"w-{tag}-{i}" / "scene.usda", save=False,
                             worker_id=f"w-{tag}-{i}", extra_args=["--create-dirs"], **kwargs) for i in range(n)]
        self.workers += out
        return out

    def server_errors(self) -> dict[str, float]:
        """5xx answers each running replica counted since it started (its /metrics, read from loopback), except
        /readyz's 503 "not ready", which is its job to say while a dependency is down."""
        out: dict[str, float] = {}
        for i, r in enumerate(self.replicas):
            text = httpx.get(f"{r.url}/metrics", timeout=30).text
            out[f"replica-{i}"] = sum(
                float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                if line.startswith("kitgate_http_requests_total{") and 'status="5' in line
                and 'route="/readyz"' not in line)
        return out

    def logs(self) -> str:
        return "\n".join(f"--- replica {i}\n{r.logs()[-3000:]}" for i, r in enumerate(self.replicas))

    def audit_verify(self) -> subprocess.CompletedProcess[str]:
        """`kitgate audit verify` against the shared store (with the shared keys dir)."""
        return self.cli("audit", "verify", "--data-dir", str(self.data_dirs[0]), check=False)

    def stop(self) -> None:
        for w in self.workers:  # all at once: each finishes its current job in parallel
            if w.proc is not None and w.proc.poll() is None:
                w.proc.send_signal(signal.SIGTERM)
        for w in self.workers:
            w.stop(5)
            w.kill()
        for r in self.replicas:
            r.stop()
        if self.proxy is not None:
            self.proxy.stop(5)
            self.proxy.kill()


# ---- a lean HTTP client for the race tests (http.client: a tenth of httpx's CPU per request) -------------------
class Lean:
    """One keep-alive connection (so, through the proxy, one replica) speaking JSON with a bearer token."""

    def __init__(self, url: str, token: str, timeout: float = 60.0) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        payload = None if body is None else json.dumps(body)
        for attempt in range(2):
            try:
                self.conn.request(method, path, payload, self.headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (ConnectionError, http.client.HTTPException):
                # the server (or the proxy) closed this keep-alive connection: one retry on a new one
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                if attempt:
                    raise
        return resp.status, (json.loads(raw) if raw else None)

    def close(self) -> None:
        self.conn.close()


def submit_many(url: str, token: str, n: int, labels: list[str], key_prefix: str, threads: int = 4,
                code: str = TRIVIAL) -> list[str]:
    """Submit `n` jobs over `threads` keep-alive connections; each has an idempotency key, so a retry after a
    connection broke (a replica died under it) never makes a second job. Returns the ids in key order."""
    ids: list[str] = [""] * n

    def run(k: int) -> None:
        c = Lean(url, token)
        try:
            for i in range(k, n, threads):
                status, body = c.call("POST", "/v1/jobs", {"code": code, "labels": labels,
                                                            "idempotency_key": f"{key_prefix}-{i}"})
                if status not in (200, 202):
                    raise AssertionError(f"submit {i}: {status} {str(body)[:300]}")
                ids[i] = body["id"]
        finally:
            c.close()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, range(threads)))
    return ids


def all_jobs(client: httpx.Client) -> list[dict[str, Any]]:
    """Every job the client's caller owns (admin: every job when all=true is added by the caller)."""
    out: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 500}
        if cursor:
            params["cursor"] = cursor
        for attempt in range(20):  # a replica may be down for a moment (fault tests): the proxy picks another
            try:
                r = client.get("/v1/jobs", params=params)
                break
            except httpx.TransportError:
                if attempt == 19:
                    raise
                time.sleep(0.25)
        r.raise_for_status()
        body = r.json()
        out += body["jobs"]
        cursor = body.get("next_cursor")
        if not cursor:
            return out


def wait_terminal(client: httpx.Client, ids: list[str], timeout: float = 120.0) -> dict[str, dict[str, Any]]:
    """The jobs once every one is terminal (or the timeout ran out: then the current state)."""
    terminal = {"succeeded", "failed", "timed_out", "cancelled", "lost", "rejected", "violation"}
    deadline = time.monotonic() + timeout
    wanted = set(ids)
    while True:
        jobs = {j["id"]: j for j in all_jobs(client) if j["id"] in wanted}
        if all(j["status"] in terminal for j in jobs.values()) and len(jobs) == len(wanted):
            return jobs
        if time.monotonic() > deadline:
            return jobs
        time.sleep(0.5)


# ---- PostgreSQL: one schema per test module ------------------------------------------------------------------
@pytest.fixture(scope="module")
def pg_module_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh schema in the run's database for one test module (dropped afterwards): its URL."""
    if STORE != "postgres":
        yield ""
        return
    pg_database: str = request.getfixturevalue("pg_database")
    with pg_schema(pg_database, "so") as url:
        yield url


def store_env(work: Path, database_url: str) -> dict[str, str]:
    """KITGATE_* for every replica and CLI call: the shared store and the shared keys dir (PostgreSQL), or
    nothing (SQLite: the replica's own data dir is the store)."""
    if STORE != "postgres":
        return {}
    keys = work / "keys"
    return {"KITGATE_DATABASE_URL": database_url, "KITGATE_KEYS_DIR": str(keys)}


def prepare_store(work: Path, env: dict[str, str]) -> None:
    """`kitgate db migrate` then `kitgate init` against the shared store (PostgreSQL only)."""
    if STORE != "postgres":
        return
    run_kitgate(["db", "migrate"], env=env, timeout=120)
    run_kitgate(["init", "--data-dir", str(work / "init")], env=env, timeout=120)


@pytest.fixture(scope="module")
def cluster_factory(tmp_path_factory: pytest.TempPathFactory,
                    pg_module_url: str) -> Iterator[Callable[..., Cluster]]:
    """Start clusters on this module's store (2 replicas on PostgreSQL, 1 on SQLite); stopped afterwards."""
    started: list[Cluster] = []

    def make(env: dict[str, str] | None = None, database_url: str | None = None, name: str = "cluster") -> Cluster:
        work = tmp_path_factory.mktemp(name)
        full = {**FAST_ENV, **store_env(work, database_url or pg_module_url), **(env or {})}
        prepare_store(work, full)
        cluster = Cluster(work, 2 if STORE == "postgres" else 1, full)
        started.append(cluster)
        return cluster.start()

    yield make
    for c in started:
        with contextlib.suppress(Exception):
            c.stop()


@pytest.fixture(scope="module")
def cluster(cluster_factory: Callable[..., Cluster]) -> Cluster:
    return cluster_factory()
