"""Rate limits over real HTTP: per identity, per IP, separate budgets; 429 + Retry-After + envelope + audit.

Memory storage by default; the Redis test shares one budget between two controllers.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from harness import ControllerProcess, HttpWorker

from .helpers import assert_401, assert_envelope, audit_rows, one_audit

LIMITS = {
    "KITGATE_RATE_SUBMIT": "3/minute",
    "KITGATE_RATE_READ": "5/minute",
    "KITGATE_RATE_WORKER": "4/minute",
    "KITGATE_RATE_ANON": "3/minute",
}
REDIS_URL = "redis://127.0.0.1:6379/0"


def assert_429(r: httpx.Response) -> int:
    err = assert_envelope(r, 429, "rate_limited")
    retry = int(r.headers["retry-after"])
    assert 1 <= retry <= 60 and err["details"] == {"retry_after_s": retry}
    assert f"retry after {retry} s" in err["message"]
    return retry


@pytest.fixture(scope="module")
def limited(controller_factory) -> ControllerProcess:
    return controller_factory(LIMITS, name="limited")


def test_submit_budget_is_per_identity_and_separate_from_reads(limited: ControllerProcess) -> None:
    a = limited.mint_token("jobs:submit", "jobs:read", sub="rate-a")
    b = limited.mint_token("jobs:submit", "jobs:read", sub="rate-b")
    with limited.client(a) as ca, limited.client(b) as cb:
        for _ in range(3):
            assert ca.post("/v1/validate", json={"code": "x = 1\n"}).status_code == 200
        r = ca.post("/v1/validate", json={"code": "x = 1\n"})
        assert_429(r)
        record = one_audit(limited, r, "rate.limited")
        assert record["actor"] == "rate-a" and record["data"]["bucket"] == "submit"
        assert ca.post("/v1/jobs", json={"code": "x = 1\n"}).status_code == 429  # submit and validate: one budget
        assert cb.post("/v1/validate", json={"code": "x = 1\n"}).status_code == 200  # another identity
        assert ca.get("/v1/jobs").status_code == 200  # reads have their own budget


def test_read_and_worker_budgets(limited: ControllerProcess) -> None:
    reader = limited.mint_token("jobs:read")
    with limited.client(reader) as c:
        statuses = [c.get("/v1/jobs").status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
    w = HttpWorker(limited, limited.mint_token("worker"), "w-rate")
    statuses = [w.heartbeat().status_code for _ in range(4)]
    assert statuses == [200] * 4
    r = w.heartbeat()
    assert_429(r)
    assert one_audit(limited, r, "rate.limited")["data"]["bucket"] == "worker"
    w.close()


def test_anonymous_budget_is_per_ip_and_throttles_its_own_audit(limited: ControllerProcess) -> None:
    with limited.client() as anon:
        for _ in range(3):
            assert_401(anon.get("/v1/jobs", headers={"Authorization": "Bearer nope"}))
        first = anon.get("/v1/jobs", headers={"Authorization": "Bearer nope"})
        assert_429(first)
        record = one_audit(limited, first, "rate.limited")
        assert record["data"]["bucket"] == "anon" and record["ip"] == "127.0.0.1"
        assert record["data"]["refused"] == "auth.failed"
        before = len(audit_rows(limited))
        for _ in range(30):
            assert anon.get("/v1/jobs").status_code == 429  # missing credentials spend the same budget
        assert len(audit_rows(limited)) == before  # a flood of bad credentials is one record, not thirty
    with limited.client(limited.mint_token("jobs:read")) as c:
        assert c.get("/v1/jobs").status_code == 200  # a valid credential from the same address still works


def test_per_ip_ceiling_over_all_identities(controller_factory) -> None:
    ctl = controller_factory({"KITGATE_RATE_IP": "4/minute"}, name="ipceiling")
    tokens = [ctl.mint_token("jobs:read") for _ in range(3)]
    statuses = []
    for token in tokens:
        with ctl.client(token) as c:
            statuses += [c.get("/v1/jobs").status_code for _ in range(2)]
    assert statuses == [200] * 4 + [429] * 2
    limited = [r for r in audit_rows(ctl, event="rate.limited")]
    assert limited and limited[0]["data"]["bucket"] == "ip" and limited[0]["data"]["key"] == "127.0.0.1"


def _redis_or_skip() -> None:
    try:
        import redis
    except ImportError:
        pytest.skip("the redis client is not installed (pip install 'kitgate[redis]')")
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")


def test_redis_storage_shares_budgets_between_controllers(controller_factory) -> None:
    _redis_or_skip()
    env = {**LIMITS, "KITGATE_RATE_STORAGE": REDIS_URL, "KITGATE_RATE_KEY_PREFIX": f"kgtest-{uuid.uuid4().hex}"}
    one = controller_factory(env, name="redis1")
    two = controller_factory(env, name="redis2")
    # the same identity name on both controllers (each has its own data dir and token)
    t1 = one.mint_token("jobs:submit", sub="ci-shared")
    t2 = two.mint_token("jobs:submit", sub="ci-shared")
    with one.client(t1) as c1, two.client(t2) as c2:
        assert c1.post("/v1/validate", json={"code": "x = 1\n"}).status_code == 200
        assert c2.post("/v1/validate", json={"code": "x = 1\n"}).status_code == 200
        assert c1.post("/v1/validate", json={"code": "x = 1\n"}).status_code == 200
        assert_429(c2.post("/v1/validate", json={"code": "x = 1\n"}))
        assert_429(c1.post("/v1/validate", json={"code": "x = 1\n"}))
    with one.client() as a1, two.client() as a2:
        assert_401(a1.get("/v1/jobs"))
        assert_401(a2.get("/v1/jobs"))
        assert_401(a1.get("/v1/jobs"))
        assert_429(a2.get("/v1/jobs"))  # the anon budget of 127.0.0.1 is shared too
    # another deployment (another prefix) on the same Redis has budgets of its own
    other = controller_factory({**env, "KITGATE_RATE_KEY_PREFIX": f"kgtest-{uuid.uuid4().hex}"}, name="redis3")
    with other.client() as a3:
        assert_401(a3.get("/v1/jobs"))


def test_bad_rate_settings_stop_the_start(tmp_path) -> None:
    from harness import run_kitgate

    for env in ({"KITGATE_RATE_SUBMIT": "lots"}, {"KITGATE_RATE_STORAGE": "mongodb://x"},
                {"KITGATE_RATE_IP": "3 per fortnight"}):
        out = run_kitgate(["serve", "--port", "0", "--data-dir", str(tmp_path / "d")], env=env, check=False)
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert next(iter(env)) in out.stderr
