"""Reports the controller refuses as too large: the worker's outbox against a real controller.

Why: a report over KITGATE_MAX_BODY_BYTES is answered 413 (`payload_too_large`). Retried as it is, it is
refused forever and every later result of that worker waits behind it. These tests put real results
(built by the worker's own `build_result`) into the real outbox, journaled by the real `WorkerState`,
and deliver them over real HTTP to a real controller with a real claimed job each:

- a job with the longest changed-prims list a result may carry, against an operator's 64 KiB limit;
- a picture at the wire's ceiling plus the most stdout a result may carry, against the default 1 MiB;
- a report whose value is nested deeper than the controller's JSON shape check allows (422);
- live output refused with 413 (a live chunk is a view: it is dropped, never retried, nothing waits on it);
- the controller's own side: an oversized or malformed report is refused and nothing of it is stored.

After each, the next result of the same outbox must be delivered normally.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import ControllerProcess, HttpWorker

from kitgate.protocol.render import MAX_IMAGE_BYTES
from kitgate.protocol.wire import MAX_CHANGED_PRIMS, MAX_STDOUT_CHARS
from kitgate.worker.handoff import Handoff
from kitgate.worker.live import LiveRelay
from kitgate.worker.outbox import Outbox
from kitgate.worker.results import build_result, encoded_size
from kitgate.worker.state import WorkerState
from kitgate.worker.transport import ControllerTransport
from kitgate.worker.verify import Job

SMALL = 64 * 1024


@pytest.fixture(scope="module")
def small_ctl(controller_factory: Callable[..., ControllerProcess]) -> ControllerProcess:
    return controller_factory(env={"KITGATE_MAX_BODY_BYTES": str(SMALL)}, name="small")


@pytest.fixture(scope="module")
def default_ctl(controller_factory: Callable[..., ControllerProcess]) -> ControllerProcess:
    return controller_factory(name="default")


class Rig:
    """A controller, an operator, a claiming test worker and the real outbox of one worker state dir."""

    def __init__(self, ctl: ControllerProcess, tmp: Path, worker_id: str) -> None:
        self.ctl = ctl
        self.op = ctl.client(ctl.mint_token("jobs:submit", "jobs:read"))
        token = ctl.mint_token("worker")
        self.claimer = HttpWorker(ctl, token, worker_id=worker_id, labels=[worker_id])
        self.worker_id = worker_id
        self.state = WorkerState(tmp / "state")
        self.handoff = Handoff()
        self.transport = ControllerTransport(ctl.url, token, timeout_s=30.0)
        self.outbox = Outbox(self.state, self.transport, self.handoff)
        self.outbox.load()

    def claim(self) -> dict[str, Any]:
        r = self.op.post("/v1/jobs", json={"code": "x = 1\n", "labels": [self.worker_id]})
        assert r.status_code in (200, 201, 202), r.text
        claim = self.claimer.claim(wait_s=5)
        assert claim is not None
        return claim

    def queue(self, claim: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """Journal and queue a result exactly as the runner does (claim journal -> outbox entry)."""
        now = time.time()
        body = build_result({"status": "succeeded", **fields}, claim_id=claim["claim_id"], worker_id=self.worker_id,
                            claimed_at=now, started_at=now)
        assert self.state.record_claim(claim["claim_id"], claim["job_id"], None)
        self.state.finish_claim(claim["claim_id"], body, claim["job_id"])
        with self.handoff.lock:
            self.outbox.add_locked(claim["claim_id"], claim["job_id"], body, False)
        return body

    def flush(self, tries: int = 3) -> bool:
        """A few flushes (what a few network-loop turns do); an outbox that stalls never gets True."""
        return any(self.outbox.flush() for _ in range(tries))

    def job(self, job_id: str) -> dict[str, Any]:
        return self.op.get(f"/v1/jobs/{job_id}").json()

    def close(self) -> None:
        self.transport.abort()
        self.claimer.close()
        self.op.close()
        self.state.close()


@pytest.fixture()
def small(small_ctl: ControllerProcess, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Rig]:
    rig = Rig(small_ctl, tmp_path, f"w-{request.node.name[-24:].strip('_')}".replace("[", "-").replace("]", ""))
    yield rig
    rig.close()


def _next_result_still_flows(rig: Rig) -> None:
    claim = rig.claim()
    rig.queue(claim, stdout="small\n", value=7)
    assert rig.flush(), rig.handoff.last_error
    job = rig.job(claim["job_id"])
    assert job["status"] == "succeeded" and job["result"]["value"] == 7 and job["result"]["error"] is None, job
    assert not rig.outbox.undelivered()
    assert rig.state.outbox() == []


def test_a_huge_changed_prims_list_is_cut_with_its_count(small: Rig) -> None:
    claim = small.claim()
    prims = [f"/World/Generated/Group_{i // 100:03d}/Prim_{i:05d}" for i in range(MAX_CHANGED_PRIMS)]
    body = small.queue(claim, stdout="made them\n", value={"made": len(prims)}, changed_prims=prims)
    assert encoded_size(body) > SMALL  # the attack: over the operator's limit

    assert small.flush(), "the oversized report stalled the outbox"
    job = small.job(claim["job_id"])
    res = job["result"]
    assert job["status"] == "succeeded", job
    assert 0 < len(res["changed_prims"]) < MAX_CHANGED_PRIMS
    assert res["changed_prims"] == prims[: len(res["changed_prims"])]  # the first ones, in order
    assert res["changed_prims_total"] == MAX_CHANGED_PRIMS  # the real count survives
    assert res["value"] == {"made": MAX_CHANGED_PRIMS}  # small: kept
    assert res["stdout"] == "made them\n"
    assert res["error"]["type"] == "ResultTooLarge"
    msg = res["error"]["message"]
    assert f"{len(res['changed_prims'])} of {MAX_CHANGED_PRIMS} changed prims" in msg, msg
    assert f"{SMALL} bytes" in msg and "KITGATE_MAX_BODY_BYTES" in msg, msg
    # the outbox entry is gone (acknowledged), and the limit is known now: later reports are measured first
    assert small.outbox.body_limit == SMALL
    _next_result_still_flows(small)


def test_a_failed_job_keeps_its_error_type_and_line(small: Rig) -> None:
    claim = small.claim()
    small.queue(claim, status="failed", stdout="y" * 200_000,
                error={"type": "ValueError", "message": "boom", "line": 3})
    assert small.flush()
    res = small.job(claim["job_id"])["result"]
    assert small.job(claim["job_id"])["status"] == "failed"
    assert res["error"]["type"] == "ValueError" and res["error"]["line"] == 3, res["error"]
    assert res["error"]["message"].startswith("boom"), res["error"]
    assert "stdout" in res["error"]["message"] and "cut" in res["error"]["message"]
    _next_result_still_flows(small)


def test_a_value_too_deep_for_the_controller_is_dropped_not_the_result(small: Rig) -> None:
    claim = small.claim()
    deep: Any = 1
    for _ in range(150):  # deeper than KITGATE_MAX_JSON_DEPTH (100): the controller answers 422 json_too_deep
        deep = [deep]
    small.queue(claim, stdout="deep\n", value=deep)
    assert small.flush(), "a result refused for its shape was lost or stalled"
    job = small.job(claim["job_id"])
    assert job["status"] == "succeeded", job
    assert job["result"]["value"] is None and job["result"]["stdout"] == "deep\n"
    assert job["result"]["error"]["type"] == "ResultTooLarge" and "value" in job["result"]["error"]["message"]
    _next_result_still_flows(small)


def _png(target_bytes: int) -> tuple[bytes, int, int]:
    """A real RGB PNG of about `target_bytes` (random pixels do not compress)."""
    side = int((target_bytes / 3) ** 0.5)
    raw = b"".join(b"\x00" + os.urandom(side * 3) for _ in range(side))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b"")
    return png, side, side


def test_a_picture_plus_the_most_stdout_fits_the_default_limit_after_trimming(default_ctl: ControllerProcess,
                                                                              tmp_path: Path) -> None:
    rig = Rig(default_ctl, tmp_path, "w-picture")
    try:
        png, w, h = _png(MAX_IMAGE_BYTES - 4096)
        assert len(png) <= MAX_IMAGE_BYTES
        picture = {"ok": True, "width": w, "height": h, "bytes": len(png), "sha256": hashlib.sha256(png).hexdigest(),
                   "render_ms": 12.0, "png_base64": base64.b64encode(png).decode()}
        claim = rig.claim()
        stdout = "".join(f"row {i:07d} " + "z" * 40 + "\n" for i in range(MAX_STDOUT_CHARS // 53))
        body = rig.queue(claim, stdout=stdout, value="v", render=picture)
        assert encoded_size(body) > 1_048_576  # every field within its own cap, together over the default limit

        assert rig.flush(), "the oversized report stalled the outbox"
        res = rig.job(claim["job_id"])["result"]
        assert res["value"] == "v"
        assert res["stdout"].startswith("row 0000000 ") and res["stdout"].rstrip().endswith("z" * 40)
        assert "cut here" in res["stdout"] and res["stdout_truncated"] > 0
        assert res["error"]["type"] == "ResultTooLarge", res["error"]
        # largest first: the stdout alone is over the limit, so it is trimmed and the picture goes too
        assert res["render"]["ok"] is False and res["render"]["error"]["code"] == "ImageTooLarge", res["render"]
        assert "picture" in res["error"]["message"]
        _next_result_still_flows(rig)
    finally:
        rig.close()


def test_live_output_refused_as_too_large_is_dropped_without_waiting(tmp_path: Path,
                                                                    controller_factory: Callable[..., ControllerProcess]
                                                                    ) -> None:
    ctl = controller_factory(env={"KITGATE_MAX_BODY_BYTES": "2048"}, name="tiny")
    rig = Rig(ctl, tmp_path, "w-live")
    try:
        claim = rig.claim()
        clock = [100.0]
        relay = LiveRelay(min_interval_s=0.0, start_delay_s=0.0, clock=lambda: clock[0])
        job = Job(claim["job_id"], claim["claim_id"], "x = 1\n", None, None, {}, time.time())
        relay.started(job)
        relay.output(job, "q" * 20_000)  # three chunks, each over the 2 KiB limit
        posts = 0
        for _ in range(5):
            clock[0] += 1.0
            posts += relay.drain(rig.transport, rig.worker_id)
        assert posts == 3 and not relay.pending  # each chunk tried once, refused, dropped: nothing waits
        # the result of the same job still gets through (trimmed to the tiny limit, nothing lost silently)
        rig.queue(claim, stdout="q" * 20_000)
        assert rig.flush()
        res = rig.job(claim["job_id"])["result"]
        assert res["error"]["type"] == "ResultTooLarge" and res["stdout_truncated"] > 0, res
    finally:
        rig.close()


def test_the_controller_refuses_an_oversized_or_malformed_report_and_stores_nothing(small: Rig) -> None:
    claim = small.claim()
    url = f"/v1/jobs/{claim['job_id']}/result"
    base = {"status": "succeeded", "worker_id": small.worker_id, "claim_id": claim["claim_id"]}
    client: httpx.Client = small.claimer.client
    too_big = client.post(url, json={**base, "stdout": "a" * (SMALL + 1)})
    assert too_big.status_code == 413, too_big.text
    err = too_big.json()["error"]
    assert err["code"] == "payload_too_large" and err["details"]["limit_bytes"] == SMALL, err
    deep: Any = 0
    for _ in range(150):
        deep = {"a": deep}
    too_deep = client.post(url, json={**base, "value": deep})
    assert too_deep.status_code == 422 and too_deep.json()["error"]["code"] == "json_too_deep", too_deep.text
    bad_field = client.post(url, json={**base, "changed_prims": ["/A"] * (MAX_CHANGED_PRIMS + 1)})
    assert bad_field.status_code == 422 and bad_field.json()["error"]["code"] == "validation_error", bad_field.text
    assert "changed_prims" in bad_field.json()["error"]["message"]
    extra = client.post(url, json={**base, "note": "x"})
    assert extra.status_code == 422, extra.text
    job = small.job(claim["job_id"])
    assert job["status"] == "running" and job["result"] is None, job  # none of them stored anything
    ok = client.post(url, json={**base, "stdout": "fine"})
    assert ok.status_code == 200 and small.job(claim["job_id"])["result"]["stdout"] == "fine"


def test_a_controller_refusing_every_form_gets_each_once_then_the_result_is_dropped_loudly(tmp_path: Path) -> None:
    """A broken or hostile controller answers every report 413 without naming its limit: the worker sends
    the report, the cut report, the minimal report and the `failed` ResultTooLarge report, each once and
    each smaller, then drops it (logged, noted); it never sends one body twice, and nothing waits behind it."""
    from .fakes import FakeServer, json_reply

    srv = FakeServer()
    srv.route("POST", "/v1/jobs/*/result",
              lambda body: json_reply(413, {"error": {"code": "payload_too_large", "message": "too big",
                                                      "details": {}, "request_id": None}}))
    state = WorkerState(tmp_path / "state")
    handoff = Handoff()
    transport = ControllerTransport(srv.url, "t", timeout_s=10.0)
    outbox = Outbox(state, transport, handoff)
    try:
        now = time.time()
        body = build_result({"status": "succeeded", "stdout": "s" * 50_000, "value": list(range(3000)),
                             "changed_prims": [f"/World/P{i}" for i in range(2000)]},
                            claim_id="c-refused", worker_id="w-refused", claimed_at=now, started_at=now)
        assert state.record_claim("c-refused", "j_refused", None)
        state.finish_claim("c-refused", body, "j_refused")
        with handoff.lock:
            outbox.add_locked("c-refused", "j_refused", body, False)
        assert outbox.flush() is True
        sent = srv.requests_to("POST", "/v1/jobs/j_refused/result")
        assert len(sent) == 4, [encoded_size(b) for b in sent]
        sizes = [encoded_size(b) for b in sent]
        assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == 4, sizes
        assert sent[0] == body
        assert sent[1]["status"] == "succeeded" and sent[1]["error"]["type"] == "ResultTooLarge"
        assert sent[2]["status"] == "succeeded" and sent[2]["stdout"] == "" and sent[2]["value"] is None
        assert sent[3]["status"] == "failed" and sent[3]["error"]["type"] == "ResultTooLarge"
        assert "KITGATE_MAX_BODY_BYTES" in sent[3]["error"]["message"]
        assert "refused even as a minimal report" in (handoff.last_error or "")
        assert not outbox.undelivered() and state.outbox() == []
        assert outbox.flush() is True and len(srv.requests_to("POST", "/v1/jobs/j_refused/result")) == 4
    finally:
        transport.abort()
        state.close()
        srv.close()


def test_cutting_is_deterministic_and_within_the_limit() -> None:
    from kitgate.worker.results import fit_report

    now = 1_700_000_000.0
    body = build_result({"status": "failed", "stdout": "é" * 30_000 + "end", "value": {"k": list(range(4000))},
                         "error": {"type": "KeyError", "message": "'x'", "line": 9},
                         "changed_prims": [f"/World/Q{i}" for i in range(5000)]},
                        claim_id="c1", worker_id="w1", claimed_at=now, started_at=now, finished_at=now + 1)
    for limit in (4096, 20_000, 65_536):
        first, again = fit_report(body, limit), fit_report(dict(body), limit)
        assert first == again and encoded_size(first) <= limit, limit
        assert first["status"] == "failed" and first["error"]["type"] == "KeyError" and first["error"]["line"] == 9
        assert first["timings"] == body["timings"] and first["claim_id"] == "c1"
    assert fit_report(body, 10_000_000) is body  # nothing to cut: the very same report
