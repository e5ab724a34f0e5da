"""Worker fault tests over real HTTP: real controller(s), real `kitgate worker` processes, real sandbox.

A tiny man-in-the-middle (tests/executor/fakes.py) sits between worker and controller only where a
fault needs a broken or hostile controller (tampered envelopes, garbage responses).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from executor.conftest import CUBE_JOB, submit, wait_job
from executor.fakes import FakeServer
from harness import FAST_ENV, ControllerProcess
from worker_harness import WorkerProcess

# Each iteration is a C call of ~20 us, so the wall clock (not the loop-iteration budget) stops it.
HANG_JOB = "while True:\n    s = sorted(range(1000), reverse=True)\n"
ALLOC_JOB = "from pxr import Vt\nkeep = []\nwhile True:\n    keep.append(Vt.FloatArray(10_000_000))\n"
LONG_JOB = "x = 0\nfor i in range(9_000_000):\n    x += i\n"  # several seconds, under loop_iterations


def _token_file(ctl: ControllerProcess, path: Path) -> Path:
    path.write_text(ctl.mint_token("worker"))
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def fast_ctl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControllerProcess]:
    """Short heartbeat timeout so a dead worker's job is declared lost within seconds."""
    env = {**FAST_ENV, "KITGATE_HEARTBEAT_TIMEOUT_S": "2", "KITGATE_LOST_CHECK_INTERVAL_S": "0.3"}
    ctl = ControllerProcess(tmp_path_factory.mktemp("fast-ctl"), env=env)
    yield ctl
    ctl.stop()


@pytest.fixture(scope="module")
def fast_op(fast_ctl: ControllerProcess) -> Iterator[httpx.Client]:
    client = fast_ctl.client(fast_ctl.mint_token("jobs:submit", "jobs:read"))
    yield client
    client.close()


def test_worker_killed_mid_job_is_lost_and_never_rerun(fast_ctl: ControllerProcess, fast_op: httpx.Client,
                                                       tmp_path: Path) -> None:
    token = _token_file(fast_ctl, tmp_path / "w.token")
    stage = tmp_path / "killed.usda"
    state = tmp_path / "state"
    w1 = WorkerProcess(fast_ctl.url, token, stage, labels=["kill"], worker_id="w-kill", state_dir=state)
    try:
        assert wait_job(fast_op, submit(fast_op, CUBE_JOB.format(name="First"), labels=["kill"]))["status"] == \
            "succeeded", w1.logs()[-2000:]
        before = stage.read_bytes()
        job_id = submit(fast_op, LONG_JOB, labels=["kill"], timeout_s=60)
        assert w1.wait_for_log(f"claimed job {job_id}"), w1.logs()[-2000:]
        time.sleep(0.3)  # the child is inside its loop now
        w1.kill()
    finally:
        w1.kill()
    job = wait_job(fast_op, job_id, timeout=30)
    assert job["status"] == "lost", job
    assert stage.read_bytes() == before

    # a fresh worker on the same state dir reports the interrupted claim, never re-runs it, and serves on
    w2 = WorkerProcess(fast_ctl.url, token, stage, labels=["kill"], worker_id="w-kill", state_dir=state)
    try:
        nxt = wait_job(fast_op, submit(fast_op, CUBE_JOB.format(name="Next"), labels=["kill"]))
        assert nxt["status"] == "succeeded", w2.logs()[-2000:]
        assert "interrupted by a worker restart" in w2.logs()
        assert wait_job(fast_op, job_id)["status"] == "lost"  # stays lost; the late report was refused
        assert "Next" in stage.read_text()
    finally:
        w2.stop()


def test_hanging_and_allocating_jobs_are_killed_and_the_worker_keeps_serving(
        fast_ctl: ControllerProcess, fast_op: httpx.Client, tmp_path: Path) -> None:
    token = _token_file(fast_ctl, tmp_path / "w.token")
    w = WorkerProcess(fast_ctl.url, token, tmp_path / "limits.usda", labels=["limits"], worker_id="w-limits")
    try:
        hang = wait_job(fast_op, submit(fast_op, HANG_JOB, labels=["limits"], timeout_s=2))
        assert hang["status"] == "timed_out" and hang["result"]["limit"] == "timeout", hang
        alloc = wait_job(fast_op, submit(fast_op, ALLOC_JOB, labels=["limits"], timeout_s=10))
        assert alloc["status"] in ("timed_out", "failed") and alloc["result"]["limit"] == "memory", alloc
        ok = wait_job(fast_op, submit(fast_op, CUBE_JOB.format(name="After"), labels=["limits"]))
        assert ok["status"] == "succeeded", w.logs()[-2000:]
        assert w.running
    finally:
        w.stop()


def test_controller_restart_mid_run_loses_and_duplicates_nothing(tmp_path_factory: pytest.TempPathFactory,
                                                                 tmp_path: Path) -> None:
    ctl = ControllerProcess(tmp_path_factory.mktemp("restart-ctl"), env=FAST_ENV, same_port=True)
    try:
        op = ctl.client(ctl.mint_token("jobs:submit", "jobs:read"))
        token = _token_file(ctl, tmp_path / "w.token")
        stage = tmp_path / "restart.usda"
        w = WorkerProcess(ctl.url, token, stage, worker_id="w-restart")
        try:
            assert wait_job(op, submit(op, CUBE_JOB.format(name="Warm")))["status"] == "succeeded"
            # a job that is still running when the controller goes away
            slow = "from pxr import UsdGeom\nx = 0\nfor i in range(3_000_000):\n    x += i\n" \
                   "UsdGeom.Cube.Define(stage, '/World/During')\nprint(x)\n"
            job_id = submit(op, slow)
            assert w.wait_for_log(f"claimed job {job_id}")
            ctl.stop()
            assert w.wait_for_log(f"job {job_id} finished", timeout=60), w.logs()[-2000:]
            time.sleep(0.5)
            ctl.start()  # same port, same data dir
            job = wait_job(op, job_id, timeout=60)
            assert job["status"] == "succeeded", (job, w.logs()[-3000:])
            after = wait_job(op, submit(op, CUBE_JOB.format(name="After")), timeout=60)
            assert after["status"] == "succeeded"
            text = stage.read_text()
            assert text.count('"During"') == 1 and text.count('"After"') == 1
            # delivered, acknowledged: the last result's report also long-polls (2 s) for the next job, and its
            # acknowledgement comes with that answer (the controller committed the result before waiting)
            deadline = time.monotonic() + 30
            while list((w.state_dir / "outbox").iterdir()) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert list((w.state_dir / "outbox").iterdir()) == []
            assert list((w.state_dir / "claims").iterdir()) == []
        finally:
            w.stop()
        op.close()
    finally:
        ctl.stop()


def _resign_with_wrong_key(status: int, body: Any) -> tuple[int, Any]:
    if status == 200 and isinstance(body, dict) and "envelope" in body:
        header = jwt.get_unverified_header(body["envelope"])
        claims = jwt.decode(body["envelope"], options={"verify_signature": False})
        body["envelope"] = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA",
                                      headers={"kid": header.get("kid")})
    return status, body


def _alter_code(status: int, body: Any) -> tuple[int, Any]:
    if status == 200 and isinstance(body, dict) and "code" in body:
        body["code"] = body["code"] + "\nprint('injected by the man in the middle')\n"
    return status, body


@pytest.mark.parametrize("tamper,reason", [(_alter_code, "code_mismatch"), (_resign_with_wrong_key, "bad_signature")])
def test_tampered_envelope_is_refused_reported_and_nothing_runs(fast_ctl: ControllerProcess, fast_op: httpx.Client,
                                                                tmp_path: Path, tamper: Any, reason: str) -> None:
    mitm = FakeServer()
    mitm.upstream = fast_ctl.url
    token = _token_file(fast_ctl, tmp_path / "w.token")
    stage = tmp_path / "tamper.usda"
    # One label per case: a stopped worker's last long-poll may still be parked in the proxy (and would
    # claim the next case's job, which then becomes `lost`, as it should for a claim nobody receives).
    label = f"mitm-{reason}"
    w = WorkerProcess(mitm.url, token, stage, labels=[label], worker_id=f"w-{label}")
    try:
        ok = wait_job(fast_op, submit(fast_op, CUBE_JOB.format(name="Clean"), labels=[label]))
        assert ok["status"] == "succeeded", w.logs()[-2000:]
        before = stage.read_bytes()
        mitm.transforms[("POST", "/v1/workers/claim")] = tamper
        job = wait_job(fast_op, submit(fast_op, CUBE_JOB.format(name="Tampered"), labels=[label]))
        assert job["status"] == "rejected", job
        assert reason in job["result"]["error"]["message"]
        assert job["result"]["stdout"] == "" and job["result"]["changed_prims"] == []
        assert stage.read_bytes() == before
        assert "injected" not in w.logs()
    finally:
        w.stop()
        mitm.close()


def test_garbage_and_oversized_controller_responses_are_logged_and_skipped(
        fast_ctl: ControllerProcess, fast_op: httpx.Client, tmp_path: Path) -> None:
    mitm = FakeServer()
    mitm.upstream = fast_ctl.url
    bad = [
        (200, b"<html>not json</html>", {}),
        (200, b"{" + b'"x":"' + b"A" * (9 * 1024 * 1024) + b'"}', {}),
        (200, b'{"job_id": 5, "claim_id": null}', {}),
        (200, b"[1, 2, 3]", {}),
        (500, b"\xff\xfe", {}),
    ]

    def claim(_body: Any) -> Any:
        return bad.pop(0) if bad else None  # then forward to the real controller

    mitm.route("POST", "/v1/workers/claim", claim)
    token = _token_file(fast_ctl, tmp_path / "w.token")
    w = WorkerProcess(mitm.url, token, tmp_path / "garbage.usda", labels=["garbage"], worker_id="w-garbage")
    try:
        job = wait_job(fast_op, submit(fast_op, CUBE_JOB.format(name="Survivor"), labels=["garbage"]))
        assert job["status"] == "succeeded", w.logs()[-3000:]
        logs = w.logs()
        assert "non-JSON" in logs and "exceeds" in logs and "malformed claim" in logs
        assert w.running
    finally:
        w.stop()
        mitm.close()


def test_replayed_claim_is_refused_and_never_runs_twice(fast_ctl: ControllerProcess, fast_op: httpx.Client,
                                                        tmp_path: Path) -> None:
    """A man in the middle re-serves an earlier, validly signed claim: the claim journal refuses it."""
    mitm = FakeServer()
    mitm.upstream = fast_ctl.url
    captured: list[Any] = []

    def capture(status: int, body: Any) -> tuple[int, Any]:
        if status == 200 and not captured:
            captured.append(dict(body))
        return status, body

    mitm.transforms[("POST", "/v1/workers/claim")] = capture
    token = _token_file(fast_ctl, tmp_path / "w.token")
    stage = tmp_path / "replay.usda"
    w = WorkerProcess(mitm.url, token, stage, labels=["replay"], worker_id="w-replay")
    try:
        first = wait_job(fast_op, submit(fast_op, "print('ran once')\n" + CUBE_JOB.format(name="Once"),
                                         labels=["replay"]))
        assert first["status"] == "succeeded" and captured
        mitm.transforms.pop(("POST", "/v1/workers/claim"))
        served: list[int] = []

        def replay(_body: Any) -> Any:
            if served:
                return None
            served.append(1)
            return 200, json.dumps(captured[0]).encode(), {"Content-Type": "application/json"}

        mitm.route("POST", "/v1/workers/claim", replay)
        assert w.wait_for_log("replayed", timeout=30), w.logs()[-2000:]
        nxt = wait_job(fast_op, submit(fast_op, CUBE_JOB.format(name="Later"), labels=["replay"]))
        assert nxt["status"] == "succeeded"
        assert wait_job(fast_op, first["id"])["status"] == "succeeded"  # the replay did not overwrite it
        assert w.logs().count(f"claimed job {first['id']}") == 1
        assert stage.read_text().count('"Once"') == 1
    finally:
        w.stop()
        mitm.close()
