"""Redis frozen, then killed, mid-run under shared rate limits: zero 500s and zero lost jobs.

Why: with `KITGATE_RATE_STORAGE=redis://…` every authenticated call consults Redis, heartbeats included.
Before the fail-safe, Redis down answered every call 500 (so running jobs went `lost`) and a Redis that
accepts connections but never answers held each request for seconds. Here the replicas use a PRIVATE
redis-server (never the machine's 6379): it is frozen (SIGSTOP: connections accepted, nothing answered)
while jobs run, then killed, while four real workers keep running jobs through the proxy.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis_server import RedisServer

from .conftest import Cluster, Lean, wait_terminal

BATCH = 100


@pytest.fixture(scope="module")
def redis_private(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    try:
        server = RedisServer(Path(tmp_path_factory.mktemp("redis")))
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    yield server
    server.stop()


def _keys(server: RedisServer) -> int:
    import redis

    with redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=2) as client:
        return int(client.dbsize())


def _submit(url: str, token: str, n: int, tag: str, codes: Counter[int]) -> list[str]:
    c = Lean(url, token)
    ids = []
    try:
        for i in range(n):
            status, body = c.call("POST", "/v1/jobs", {"code": "x = 1\n", "labels": ["redis"],
                                                        "idempotency_key": f"{tag}-{i}"})
            codes[status] += 1
            if status in (200, 202):
                ids.append(body["id"])
    finally:
        c.close()
    return ids


def test_redis_frozen_then_killed_mid_run_no_500_no_lost_job(
        cluster_factory: Callable[..., Cluster], redis_private: RedisServer) -> None:
    cluster = cluster_factory({"KITGATE_RATE_STORAGE": redis_private.url, "KITGATE_HEARTBEAT_TIMEOUT_S": "5",
                               "KITGATE_LOST_CHECK_INTERVAL_S": "0.5"}, name="redis-cluster")
    op = cluster.mint("jobs:submit", "jobs:read")
    workers = cluster.start_workers(4, "redis", labels=["redis"], poll_wait_s=2.0, heartbeat_s=0.5,
                                    backoff_max_s=0.5)
    codes: Counter[int] = Counter()
    took: dict[str, float] = {}
    ids: list[str] = []
    try:
        for phase in ("redis up", "redis frozen", "redis dead"):
            if phase == "redis frozen":
                assert _keys(redis_private) > 0, "the replicas really kept their budgets in this Redis"
                redis_private.freeze()
            elif phase == "redis dead":
                redis_private.kill()
            t0 = time.monotonic()
            ids += _submit(cluster.url, op, BATCH, phase.replace(" ", "-"), codes)
            took[phase] = time.monotonic() - t0
            if phase == "redis frozen":
                time.sleep(2.0)  # jobs run and heartbeat while Redis hangs
    finally:
        redis_private.kill()
    with cluster.client(op) as client:
        jobs = wait_terminal(client, ids, timeout=180)
    final = Counter(j["status"] for j in jobs.values())
    errors = cluster.server_errors()  # every call, the workers' claims, heartbeats and reports included
    print(f"\nsubmit answers: {dict(codes)}; seconds per {BATCH} submits: "
          f"{ {k: round(v, 2) for k, v in took.items()} }; jobs: {dict(final)}; 5xx per replica: {errors}")
    assert codes == {202: 3 * BATCH}, (codes, cluster.logs())
    assert final == {"succeeded": 3 * BATCH}, (final, cluster.logs())
    assert sum(errors.values()) == 0, (errors, cluster.logs())
    assert all(w.running for w in workers)
