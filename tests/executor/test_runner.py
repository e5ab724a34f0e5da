"""The Runner in-process against a scripted HTTP peer that signs real claims (kitgate.protocol.claims).

Normal flows are tested against the real controller (test_headless, test_kit_binding, e2e); here the
peer misbehaves on purpose: wrong audience, expired or foreign-key envelopes, an outage between a
job's end and its report, a restart of the worker with an undelivered result.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kitgate.protocol.claims import sign_claim
from kitgate.sandbox.policy import load_policy
from kitgate.worker.headless import HeadlessHost
from kitgate.worker.runner import Runner, RunnerConfig

from .fakes import FakeServer, json_reply

CODE = "from pxr import UsdGeom\nUsdGeom.Cube.Define(stage, '/World/{name}')\n"


class Peer:
    """Serves queued claims once each, records results; `down` makes it answer 503 to reports."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.kid = "peer-key"
        jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = {"keys": [{**jwk, "kid": self.kid, "alg": "EdDSA", "use": "sig"}]}
        self.policy = load_policy("scene-edit")
        self.queue: list[dict[str, Any]] = []
        self.results: dict[str, list[dict[str, Any]]] = {}
        self.down = False
        self.lock = threading.Lock()
        self.srv = FakeServer()
        self.srv.route("GET", "/v1/keys", lambda _b: json_reply(200, self.jwks))
        self.srv.route("POST", "/v1/workers/claim", self._claim)
        self.srv.route("POST", "/v1/workers/heartbeat", lambda _b: json_reply(200, {"ok": True, "cancel": False}))
        self.srv.route("POST", "/v1/jobs/*/result", self._result)

    def add(self, name: str, *, aud: str | None = None, exp_in: float = 300, key: Any = None,
            code: str | None = None) -> str:
        job_id = f"job-{name}"
        src = code if code is not None else CODE.format(name=name)
        now = int(time.time())
        claim_id = uuid.uuid4().hex
        claims = {"iss": "kitgate", "aud": aud, "sub": job_id, "jti": claim_id, "iat": now, "exp": now + exp_in,
                  "code_sha256": hashlib.sha256(src.encode()).hexdigest(), "policy": self.policy.name,
                  "policy_digest": self.policy.digest, "limits": self.policy.limits.to_dict(), "timeout_s": 10,
                  "attempt": 1}
        self.queue.append({"claims": claims, "key": key or self.key,
                           "body": {"job_id": job_id, "claim_id": claim_id, "code": src, "policy": self.policy.name,
                                    "policy_digest": self.policy.digest, "timeout_s": 10}})
        return job_id

    def _claim(self, body: Any) -> Any:
        with self.lock:
            item = self.queue.pop(0) if self.queue else None
        if item is None:
            time.sleep(0.1)
            return 204, b"", {}
        claims = dict(item["claims"])
        claims["aud"] = claims["aud"] or body["worker_id"]
        envelope = sign_claim(item["key"], self.kid, claims)
        return json_reply(200, {**item["body"], "envelope": envelope})

    def _result(self, body: Any) -> Any:
        if self.down:
            return json_reply(503, {"error": {"code": "unavailable"}})
        with self.lock:
            self.results.setdefault(body["claim_id"], []).append(body)
        return json_reply(200, {"ok": True})

    def statuses(self) -> list[str]:
        with self.lock:
            return [r[0]["status"] for r in self.results.values()]


@pytest.fixture()
def peer() -> Iterator[Peer]:
    p = Peer()
    yield p
    p.srv.close()


def _runner(peer: Peer, tmp: Path, **kw: Any) -> tuple[Runner, HeadlessHost]:
    host = HeadlessHost(tmp / "stage.usda", save=True)
    cfg = RunnerConfig(controller_url=peer.srv.url, token="test-token", state_dir=tmp / "state", poll_wait_s=1,
                       heartbeat_s=0.2, backoff_initial_s=0.05, backoff_max_s=0.2, worker_id="runner-test", **kw)
    return Runner(cfg, host), host


def _serve_until(runner: Runner, until: Any) -> None:
    """Start the runner, tick it until `until()` holds, and always stop it."""
    runner.start()
    try:
        _drive(runner, until)
    finally:
        runner.stop()


def _drive(runner: Runner, until: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "timed out"
        runner.tick(0.05)


def test_refusals_are_reported_and_nothing_runs(peer: Peer, tmp_path: Path) -> None:
    peer.add("Good")
    peer.add("OtherWorker", aud="someone-else")
    peer.add("Expired", exp_in=-120)
    peer.add("ForeignKey", key=Ed25519PrivateKey.generate())
    runner, host = _runner(peer, tmp_path)
    _serve_until(runner, lambda: len(peer.results) == 4)
    by_job = {r[0]["claim_id"]: r[0] for r in peer.results.values()}
    results = sorted((r["status"], (r["error"] or {}).get("type"), (r["error"] or {}).get("message", "")[:40])
                     for r in by_job.values())
    assert results[-1][0] == "succeeded"
    refused = [r for r in results if r[0] == "rejected"]
    assert len(refused) == 3
    assert any("wrong_audience" in m for _, _, m in refused)
    assert any(t == "not_started" and "expired" in m for _, t, m in refused)  # retryable
    assert any("bad_signature" in m or "unknown_key" in m for _, _, m in refused)
    stage = host.stage
    assert stage.GetPrimAtPath("/World/Good").IsValid()
    for name in ("OtherWorker", "Expired", "ForeignKey"):
        assert not stage.GetPrimAtPath(f"/World/{name}").IsValid()
    # pinned on first contact
    assert json.loads((tmp_path / "state" / "pinned_keys.json").read_text()) == peer.jwks


def test_result_survives_an_outage_and_a_worker_restart(peer: Peer, tmp_path: Path) -> None:
    peer.down = True
    peer.add("DuringOutage")
    runner, host = _runner(peer, tmp_path)
    runner.start()
    try:
        _drive(runner, lambda: host.stage.GetPrimAtPath("/World/DuringOutage").IsValid())
        time.sleep(0.5)
    finally:
        runner.stop()
    assert peer.results == {}
    outbox = list((tmp_path / "state" / "outbox").iterdir())
    assert len(outbox) == 1  # kept on disk, not lost
    # a new runner on the same state dir delivers it once the controller is back, and never re-runs it
    peer.down = False
    runner2, host2 = _runner(peer, tmp_path)
    _serve_until(runner2, lambda: len(peer.results) == 1)
    assert peer.statuses() == ["succeeded"]
    assert list((tmp_path / "state" / "outbox").iterdir()) == []
    assert host2.stage.GetRootLayer().ExportToString().count('"DuringOutage"') == 1


def test_stop_leaves_no_runner_threads(peer: Peer, tmp_path: Path) -> None:
    runner, _host = _runner(peer, tmp_path)
    runner.start()
    runner.tick(0.2)
    runner.stop()
    assert [t.name for t in threading.enumerate() if t.name.startswith("kitgate")] == []


class _DurableSpy:
    """Records which stored results the runner made durable (then does the real fsync)."""

    def __init__(self, runner: Runner) -> None:
        self.calls: list[str] = []
        real = runner.state.make_durable

        def spy(claim_id: str) -> None:
            self.calls.append(claim_id)
            real(claim_id)

        runner.state.make_durable = spy  # type: ignore[method-assign]


def test_a_delivered_result_costs_no_fsync_an_undelivered_one_is_made_durable(peer: Peer, tmp_path: Path) -> None:
    peer.add("Delivered")
    runner, host = _runner(peer, tmp_path)
    host.save = False  # the stage is in memory only: nothing the result describes is on disk either
    spy = _DurableSpy(runner)
    runner.start()
    try:
        _drive(runner, lambda: len(peer.results) == 1)
        assert spy.calls == []  # acknowledged by the first report: no fsync on the way
        peer.down = True
        job_id = peer.add("Undelivered")
        _drive(runner, lambda: runner.status().last_results[:1] == [(job_id, "succeeded")])
        deadline = time.monotonic() + 30
        while not spy.calls and time.monotonic() < deadline:
            runner.tick(0.05)
    finally:
        runner.stop()
    stored = [claim for claim, job, _ in runner.state.outbox() if job == job_id]
    assert len(stored) == 1 and spy.calls[:1] == stored  # fsync'd once the first delivery failed


def test_a_saved_stage_means_a_durable_result_before_it_is_sent(peer: Peer, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    peer.add("Saved")
    runner, _host = _runner(peer, tmp_path)  # save=True: the edit is on disk, so must be its result
    _serve_until(runner, lambda: len(peer.results) == 1)
    claim_id = next(iter(peer.results))
    outbox = tmp_path / "state" / "outbox"
    assert any(Path(p).name.startswith(".stage.") for p in synced)  # the stage save (temp file, then rename)
    assert any(p.startswith(str(outbox / f".{claim_id}.tmp")) for p in synced) and str(outbox) in synced
    assert peer.statuses() == ["succeeded"] and runner.state.outbox() == []


def test_claim_and_result_both_on_disk_after_a_crash_report_the_result_not_an_interruption(
        peer: Peer, tmp_path: Path) -> None:
    """A process that died between storing a result and closing its claim: the stored result goes out."""
    runner, _host = _runner(peer, tmp_path)
    state = runner.state
    assert state.record_claim("c-crash", "job-crash", None)
    body = {"status": "succeeded", "claim_id": "c-crash", "worker_id": "runner-test", "stdout": "done",
            "value": None, "error": None, "changed_prims": [], "changed_prims_total": 0, "limit": None,
            "violations": [], "timings": {}}
    # what finish_claim does before it closes the claim, and then the process dies
    (tmp_path / "state" / "outbox" / "c-crash").write_text(json.dumps({"job_id": "job-crash", "result": body,
                                                                       "at": time.time()}))
    state.close()
    runner2, _host2 = _runner(peer, tmp_path)
    _serve_until(runner2, lambda: len(peer.results) == 1)
    assert peer.results["c-crash"][0]["status"] == "succeeded"  # not overwritten by WorkerInterrupted
    assert runner2.state.open_claims() == [] and runner2.state.outbox() == []
