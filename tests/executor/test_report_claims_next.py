"""The worker's side of `POST /v1/jobs/{id}/result?next=true`: the report that also claims the next job.

Against the scripted peer of test_runner (it signs real claims): a claim that arrives inside a report's
answer is journaled, verified and run like any other; a tampered one is refused; and when the answer is
lost after the peer handed a job out, the worker re-sends its result, never runs the job it did not
receive, and claims again normally.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kitgate.protocol.claims import sign_claim

from .fakes import json_reply
from .test_runner import Peer, _drive, _runner, _serve_until


@pytest.fixture()
def peer() -> Iterator[Peer]:
    p = Peer()
    yield p
    p.srv.close()


class NextPeer:
    """Answers a report that asks (`next=true`) with a ReportAck carrying the next queued claim."""

    def __init__(self, peer: Peer, *, lose_first_answer: bool = False, tamper: bool = False) -> None:
        self.peer = peer
        self.lose_first_answer = lose_first_answer
        self.tamper = tamper
        self.handed_out: list[str] = []  # job ids given away inside report answers
        self.claim_ids: list[str] = []  # ... and their claim ids
        self.lost: list[str] = []  # ... of which the answer never reached the worker
        peer.srv.route("POST", "/v1/jobs/*/result", self._result)

    def _asked(self) -> bool:
        with self.peer.srv.lock:
            _method, path, _body, _headers = self.peer.srv.requests[-1]
        return "next=true" in path

    def _result(self, body: Any) -> Any:
        p = self.peer
        with p.lock:
            if body["claim_id"] in p.results:
                return json_reply(409, {"error": {"code": "already_reported", "message": "", "details": {}}})
            p.results[body["claim_id"]] = [body]
            item = p.queue.pop(0) if self._asked() and p.queue else None
        if item is None:
            return json_reply(200, {"job_id": body.get("claim_id"), "status": body["status"], "next": None})
        claims = {**item["claims"], "aud": item["claims"]["aud"] or "runner-test"}
        claim = {**item["body"], "envelope": sign_claim(item["key"], p.kid, claims)}
        self.handed_out.append(claim["job_id"])
        self.claim_ids.append(claim["claim_id"])
        if self.tamper:
            claim["code"] += "\nUsdGeom.Cube.Define(stage, '/World/Injected')\n"
        if self.lose_first_answer and not self.lost:
            self.lost.append(claim["job_id"])
            raise ConnectionAbortedError("the answer is lost after the job was handed out")  # the peer drops it
        return json_reply(200, {"job_id": body.get("claim_id"), "status": body["status"], "next": claim})


def _report_paths(peer: Peer) -> list[str]:
    with peer.srv.lock:
        return [path for method, path, _b, _h in peer.srv.requests if method == "POST" and "/result" in path]


def _claims(peer: Peer) -> int:
    with peer.srv.lock:
        return sum(1 for method, path, _b, _h in peer.srv.requests if path.startswith("/v1/workers/claim"))


def test_a_claim_in_the_report_answer_is_journaled_verified_and_run(peer: Peer, tmp_path: Path) -> None:
    nxt = NextPeer(peer)
    peer.add("First")
    peer.add("Second")
    peer.add("Third")
    runner, host = _runner(peer, tmp_path, labels=["usd"])
    _serve_until(runner, lambda: len(peer.results) == 3)
    assert sorted(peer.statuses()) == ["succeeded"] * 3
    assert nxt.handed_out == ["job-Second", "job-Third"]  # both came inside a report's answer
    assert _claims(peer) >= 1  # the first job came from a plain claim
    asked = [p for p in _report_paths(peer) if "next=true" in p]
    assert asked and all("label=usd" in p and re.search(r"wait_s=1(\.0)?(&|$)", p) for p in asked)
    for name in ("First", "Second", "Third"):
        assert host.stage.GetPrimAtPath(f"/World/{name}").IsValid()
    assert runner.state.outbox() == [] and runner.state.open_claims() == []
    # journaled like any claim: its replay marker is on disk (a replay of the envelope would be refused)
    on_disk = "".join(f.read_text(errors="replace") for f in (tmp_path / "state").rglob("*") if f.is_file())
    assert all(cid in on_disk for cid in nxt.claim_ids)


def test_a_tampered_claim_in_the_report_answer_is_refused(peer: Peer, tmp_path: Path) -> None:
    nxt = NextPeer(peer, tamper=True)
    peer.add("Clean")
    peer.add("Tampered")
    runner, host = _runner(peer, tmp_path)
    _serve_until(runner, lambda: len(peer.results) == 2)
    assert nxt.handed_out == ["job-Tampered"]
    by_status = {r[0]["status"]: r[0] for r in peer.results.values()}
    assert set(by_status) == {"succeeded", "rejected"}
    assert "code_mismatch" in by_status["rejected"]["error"]["message"]
    assert not host.stage.GetPrimAtPath("/World/Injected").IsValid()
    assert not host.stage.GetPrimAtPath("/World/Tampered").IsValid()


def test_a_lost_answer_re_sends_the_result_and_never_runs_the_job_it_carried(peer: Peer,
                                                                           tmp_path: Path) -> None:
    nxt = NextPeer(peer, lose_first_answer=True)
    peer.add("Before")
    peer.add("Carried")  # handed out in the answer that is lost
    runner, host = _runner(peer, tmp_path)
    runner.start()
    try:
        # the answer carrying job-Carried is dropped; the result is then re-sent and acknowledged (409)
        _drive(runner, lambda: bool(nxt.lost) and not runner.outbox.undelivered())
        assert nxt.lost == ["job-Carried"]
        peer.add("After")  # served by a plain claim once the result is acknowledged
        _drive(runner, lambda: len(peer.results) == 2 and not runner.outbox.undelivered())
    finally:
        runner.stop()
    assert sorted(r[0]["status"] for r in peer.results.values()) == ["succeeded", "succeeded"]
    assert [len(r) for r in peer.results.values()] == [1, 1]  # the re-sent report was not stored twice
    assert host.stage.GetPrimAtPath("/World/Before").IsValid()
    assert host.stage.GetPrimAtPath("/World/After").IsValid()
    assert not host.stage.GetPrimAtPath("/World/Carried").IsValid()  # never received, never run
    # the controller declares job-Carried lost (no heartbeat names it); the worker never journaled its claim
    assert all(rec.get("job_id") != "job-Carried" for rec in runner.state.open_claims())
