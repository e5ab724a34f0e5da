"""The SDK against a real controller and a real headless worker (conftest.py starts both)."""

from __future__ import annotations

import asyncio

import pytest

from kitgate.client.errors import (
    AuthError,
    ConnectionFailed,
    ForbiddenError,
    KitgateError,
    NotFound,
    PolicyViolation,
    RateLimited,
    ResponseTooLarge,
    WaitTimeout,
)
from kitgate.client.sdk import AsyncKitgateClient, KitgateClient, RetryPolicy
from kitgate.protocol.status import JobStatus

from .faultproxy import DropOnceProxy

MAKE_CUBE = """
from pxr import UsdGeom
cube = UsdGeom.Cube.Define(stage, {path!r})
cube.GetSizeAttr().Set(2.0)
print("made", {path!r})
result = {{"path": {path!r}}}
"""
NOBODY = ["nobody-has-this-label"]  # a job with this label is never claimed: it stays queued


def test_execute_watch_and_list(live) -> None:
    with live.client() as c:
        job = c.execute(MAKE_CUBE.format(path="/World/SdkCube"), timeout_s=60)
        assert job.status is JobStatus.succeeded, job
        assert job.result is not None
        assert "made /World/SdkCube" in job.result.stdout
        assert job.result.value == {"path": "/World/SdkCube"}
        assert "/World/SdkCube" in job.result.changed_prims
        seen = [v.status for v in c.watch(job.id, timeout_s=10)]
        assert seen == [JobStatus.succeeded]  # already terminal: one view, then the iterator ends
        ids = [j.id for j in c.list_jobs(limit=50).jobs]
        assert job.id in ids


def test_watch_reports_each_status_change(live) -> None:
    with live.client() as c:
        job = c.submit("n = 0\nfor i in range(200000):\n    n += i\nresult = n\n")
        statuses = [v.status for v in c.watch(job.id, timeout_s=60)]
        assert statuses[-1] is JobStatus.succeeded
        assert len(statuses) == len(set(statuses))  # only changes are yielded
        assert c.status(job.id).result.value == sum(range(200000))


def test_policy_violation_is_typed_and_queues_nothing(live) -> None:
    with live.client() as c:
        before = {j.id for j in c.list_jobs(limit=500).jobs}
        with pytest.raises(PolicyViolation) as ei:
            c.submit("import os\nos.system('touch /tmp/pwned')\n")
        err = ei.value
        assert err.status == 422 and err.code == "policy_violation" and err.request_id
        v = err.violations[0]
        assert v.line == 1 and v.hint
        assert {j.id for j in c.list_jobs(limit=500).jobs} == before
        verdict = c.validate("import os\n")
        assert verdict.ok is False and verdict.violations[0].line == 1
        assert c.validate("x = 1\n").ok is True


def test_not_found_and_bad_ids(live) -> None:
    with live.client() as c:
        with pytest.raises(NotFound):
            c.status("doesnotexist0000")
        with pytest.raises(KitgateError, match="job id"):
            c.status("../v1/audit")  # refused before any request is made


def test_idempotency_key_returns_the_same_job(live) -> None:
    with live.client() as c:
        a = c.submit("result = 41 + 1\n", idempotency_key="client-test-idem-1")
        b = c.submit("result = 41 + 1\n", idempotency_key="client-test-idem-1")
        assert a.id == b.id
        assert c.submit("result = 41 + 1\n").id != a.id  # each call without a key gets a fresh one


def test_lost_response_is_retried_without_a_duplicate_job(live) -> None:
    """The controller stores the job but the answer is dropped; the retry (same key) returns that job."""
    with DropOnceProxy(live.port) as proxy, live.client(url=proxy.url,
                                                       retry=RetryPolicy(attempts=3, backoff_s=0.05)) as c:
        proxy.armed = True
        marker = "lost-response-marker-7f3a"
        job = c.submit(f"result = {marker!r}\n", labels=NOBODY)
        assert proxy.dropped == 1  # the first answer really was lost
        mine = [j for j in c.list_jobs(limit=500).jobs if j.code_sha256 == job.code_sha256]
        assert [j.id for j in mine] == [job.id]
        c.cancel(job.id)


def test_connection_refused_fails_fast_and_clearly(free_port: int) -> None:
    retry = RetryPolicy(attempts=3, backoff_s=0.01)
    with KitgateClient(f"http://127.0.0.1:{free_port}", "tok-abc", retry=retry) as c, \
            pytest.raises(ConnectionFailed) as ei:
        c.submit("x = 1\n")
    assert "could not connect" in str(ei.value) and "tok-abc" not in str(ei.value)


def test_scopes_are_enforced(live) -> None:
    with live.client(token=live.reader_token) as reader:
        with pytest.raises(ForbiddenError) as ei:
            reader.submit("x = 1\n")
        assert ei.value.status == 403
        assert reader.policies()  # jobs:read is enough to read policies
    with live.client(token="not-a-token") as anon, pytest.raises(AuthError):
        anon.list_jobs()


def test_response_size_is_capped(live) -> None:
    with live.client(max_response_bytes=256) as c, pytest.raises(ResponseTooLarge):
        c.policies()


def test_cancel_and_wait_timeout(live) -> None:
    with live.client() as c:
        job = c.submit("x = 1\n", labels=NOBODY)
        assert job.status is JobStatus.queued
        with pytest.raises(WaitTimeout) as ei:
            c.wait(job.id, timeout_s=0.3)
        assert ei.value.job.id == job.id
        assert c.cancel(job.id).status is JobStatus.cancelled
        assert c.wait(job.id, timeout_s=5).status is JobStatus.cancelled


def test_async_client(live) -> None:
    async def main() -> None:
        async with AsyncKitgateClient(live.url, live.token) as c:
            job = await c.execute("result = [1, 2, 3]\n", timeout_s=60)
            assert job.status is JobStatus.succeeded and job.result.value == [1, 2, 3]
            seen = [v.status async for v in c.watch(job.id)]
            assert seen == [JobStatus.succeeded]
            with pytest.raises(PolicyViolation):
                await c.submit("open('/etc/passwd')\n")
            assert (await c.validate("x = 1\n")).ok
            assert [p["name"] for p in await c.policies()]

    asyncio.run(main())


def test_rate_limit_honours_retry_after(controller_factory) -> None:
    ctl = controller_factory(env={"KITGATE_RATE_READ": "3/second"}, name="ratelimited")
    token = ctl.mint_token("jobs:read")
    with KitgateClient(ctl.url, token, retry=RetryPolicy(attempts=1)) as strict:
        with pytest.raises(RateLimited) as ei:
            for _ in range(20):
                strict.policies()
        assert ei.value.retry_after is not None and ei.value.retry_after > 0
    with KitgateClient(ctl.url, token, retry=RetryPolicy(attempts=6)) as patient:
        for _ in range(8):  # more than the limit allows at once: the SDK waits as told and succeeds
            assert patient.policies()
