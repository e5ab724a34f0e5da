"""PostgreSQL restarted under two running replicas: they recover without a restart of their own.

Why: a database failover or a restart for a minor upgrade must not need every controller replica restarted
too; their pools must drop dead connections and reconnect, and the LISTEN connection must come back (jobs
submitted afterwards still wake workers). The machine's PostgreSQL is shared with other tests, so this test
starts a PRIVATE cluster (initdb + pg_ctl from the PostgreSQL 15 binaries, as user postgres, trust auth,
an ephemeral port, a temp dir) and stops and starts that one mid-run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from conftest import service_missing

from .conftest import STORE, Cluster, submit_many, wait_terminal

PG_BIN = Path(os.environ.get("KG_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
BATCH = 100


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    """A throw-away PostgreSQL cluster owned by this test (never the machine's server)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="kitgate-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = _free_port()
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: the cluster belongs to user postgres
            shutil.chown(self.root, "postgres", "postgres")
        self._as_postgres(PG_BIN / "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync",
                          "-E", "UTF8")
        self.start()

    def _as_postgres(self, *args: str | Path, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        cmd = [str(a) for a in args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: {proc.stderr[-2000:]}")
        return proc

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off -c max_connections=100"
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-o", opts, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """fast: roll back, close every connection (what a restart does to the replicas' pools)."""
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError):  # already down
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def private_pg() -> Iterator[PrivatePostgres]:
    if STORE != "postgres":
        pytest.skip("PostgreSQL restarts only concern the PostgreSQL store")
    if not (PG_BIN / "initdb").exists() or (os.geteuid() == 0 and shutil.which("runuser") is None):
        service_missing(f"no PostgreSQL binaries at {PG_BIN} (or, as root, no runuser) for a private cluster")
    pg = PrivatePostgres()
    yield pg
    pg.destroy()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def test_replicas_recover_from_a_postgres_restart_without_restarting(
        private_pg: PrivatePostgres, cluster_factory: Callable[..., Cluster]) -> None:
    # (private_pg first: set up first, torn down last, so the replicas stop while their database is up)
    cluster = cluster_factory({"KITGATE_HEARTBEAT_TIMEOUT_S": "15"}, database_url=private_pg.url, name="pg-restart")
    pids = [r.proc.pid for r in cluster.replicas if r.proc is not None]
    op = cluster.mint("jobs:submit", "jobs:read")
    workers = cluster.start_workers(4, "pgr", labels=["pgr"], poll_wait_s=2.0, heartbeat_s=0.5, backoff_max_s=0.5)
    first = submit_many(cluster.url, op, BATCH, ["pgr"], "before")
    time.sleep(0.5)  # some are running now

    private_pg.stop("fast")
    down_at = time.monotonic()
    readyz_down = [_ready(r.url) for r in cluster.replicas]
    time.sleep(2.0)
    private_pg.start()

    deadline = time.monotonic() + 60
    while not all(_ready(r.url) for r in cluster.replicas):
        assert time.monotonic() < deadline, cluster.logs()
        time.sleep(0.2)
    ready_after = time.monotonic() - down_at

    # new jobs after the restart run to success through the same replica processes
    second = submit_many(cluster.url, op, BATCH, ["pgr"], "after")
    with cluster.client(op) as client:
        jobs = wait_terminal(client, first + second, timeout=180)
    before = Counter(jobs[i]["status"] for i in first)
    after = Counter(jobs[i]["status"] for i in second)
    print(f"\n/readyz while PostgreSQL was down: {readyz_down}; every replica ready again {ready_after:.1f} s "
          f"after the stop (2 s down); jobs in flight across the restart: {dict(before)}; after: {dict(after)}; "
          f"5xx per replica: {cluster.server_errors()}")
    assert [r.proc.pid for r in cluster.replicas if r.proc is not None] == pids, "no replica restarted"
    assert all(r.running for r in cluster.replicas)
    assert readyz_down == [False] * len(cluster.replicas), "readyz said ready with the database down"
    assert after == {"succeeded": BATCH}, (after, cluster.logs())
    assert sum(before.values()) == BATCH and set(before) <= {"succeeded", "lost"}, (before, cluster.logs())
    assert max(j["attempts"] for j in jobs.values()) == 1
    assert all(w.running for w in workers)
    audit = cluster.audit_verify()
    assert audit.returncode == 0, (audit.stdout[-2000:], audit.stderr[-2000:])
