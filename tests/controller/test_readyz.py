"""/readyz over real HTTP: what it reports (database engine and whether it answers, schema current and
expected, Redis absent|ok|degraded, the signing key) and when a replica must leave a load balancer's pool
(503: the database stops answering) - without naming a URL, a path or a secret.

The Redis states are covered end to end in test_ratelimit_redis.py (degraded stays 200).
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from harness import FAST_ENV, ControllerProcess, run_kitgate


def _ready(ctl: ControllerProcess) -> httpx.Response:
    return httpx.get(f"{ctl.url}/readyz", timeout=30)


def test_readyz_reports_sqlite_schema_and_no_redis(controller: ControllerProcess) -> None:
    r = _ready(controller)
    body = r.json()
    assert r.status_code == 200 and body["status"] == "ready"
    assert body["checks"] == {"store": True, "schema": True, "signing_key": True}
    assert body["database"] == {"engine": "sqlite", "answers": True}
    assert body["schema"]["current"] == body["schema"]["expected"] and body["schema"]["expected"] > 0
    assert body["redis"] == "absent"
    assert str(controller.data_dir) not in r.text and "sqlite3" not in r.text


def test_readyz_on_postgres_leaves_the_pool_while_the_database_does_not_answer(pg_url: str, tmp_path: Path) -> None:
    import psycopg

    env = {**FAST_ENV, "KITGATE_DATABASE_URL": pg_url, "KITGATE_KEYS_DIR": str(tmp_path / "keys")}
    run_kitgate(["db", "migrate"], env=env, timeout=120)
    run_kitgate(["init", "--data-dir", str(tmp_path / "init")], env=env, timeout=120)  # the keys, once
    ctl = ControllerProcess(tmp_path / "ctl", env=env)
    try:
        r = _ready(ctl)
        body = r.json()
        assert r.status_code == 200 and body["database"] == {"engine": "postgres", "answers": True}
        assert body["schema"]["current"] == body["schema"]["expected"] > 0 and body["redis"] == "absent"
        assert "postgresql://" not in r.text and "127.0.0.1" not in r.text

        with psycopg.connect(pg_url, autocommit=True) as conn:  # our own schema: the jobs table goes away
            conn.execute("ALTER TABLE jobs RENAME TO jobs_away")
            gone = _ready(ctl)
            scrape_gone = httpx.get(f"{ctl.url}/metrics", timeout=30)
            conn.execute("ALTER TABLE jobs_away RENAME TO jobs")
        # /metrics still answers while the database does not (the last counts, flagged stale), then recovers
        assert scrape_gone.status_code == 200 and "kitgate_job_counts_stale 1.0" in scrape_gone.text
        assert "kitgate_job_counts_stale 0.0" in httpx.get(f"{ctl.url}/metrics", timeout=30).text
        assert gone.status_code == 503 and gone.json()["status"] == "not_ready"
        assert gone.json()["database"]["answers"] is False and gone.json()["checks"]["store"] is False
        statuses = []
        for _ in range(50):  # back: the next probe answers (poll, then assert)
            statuses.append(_ready(ctl).status_code)
            if statuses[-1] == 200:
                break
            time.sleep(0.1)
        assert statuses[-1] == 200
    finally:
        ctl.stop()
