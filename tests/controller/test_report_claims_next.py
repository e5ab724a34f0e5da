"""`POST /v1/jobs/{id}/result?next=true`: a worker's report that also claims its next job, over real HTTP.

Why these tests: the combined request must be exactly a report followed by a claim (same checks, same
labels and policies, nothing claimed when the report is refused), and an answer lost after the
controller committed both must not make a job run twice: the claimed job goes `lost`, as a lost claim does.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from urllib.parse import urlsplit

import pytest
from harness import ControllerProcess, HttpWorker

TRIVIAL = "x = 1\n"


@pytest.fixture(scope="module")
def op(controller: ControllerProcess, tokens: dict[str, str]):
    with controller.client(tokens["operator"]) as c:
        yield c


def submit(op, **fields) -> dict:
    r = op.post("/v1/jobs", json={"code": TRIVIAL, **fields})
    assert r.status_code == 202, r.text
    return r.json()


def report_next(w: HttpWorker, claim: dict, wait_s: float = 0.0, labels: list[str] | None = None, **fields):
    body = {"status": "succeeded", "worker_id": w.worker_id, "claim_id": claim["claim_id"], **fields}
    params: dict[str, object] = {"next": "true", "wait_s": wait_s}
    if labels:
        params["label"] = labels
    return w.client.post(f"/v1/jobs/{claim['job_id']}/result", params=params, json=body)


def test_a_report_claims_the_waiting_job(op, controller, tokens) -> None:
    w = HttpWorker(controller, tokens["worker"], "w-next")
    first, second = submit(op), submit(op)
    claim = w.claim()
    assert claim is not None and claim["job_id"] == first["id"]
    r = report_next(w, claim)
    assert r.status_code == 200, r.text
    ack = r.json()
    assert ack["job_id"] == first["id"] and ack["status"] == "succeeded"
    nxt = ack["next"]
    assert nxt["job_id"] == second["id"] and nxt["code"] == TRIVIAL and nxt["envelope"].count(".") == 2
    assert op.get(f"/v1/jobs/{first['id']}").json()["status"] == "succeeded"
    running = op.get(f"/v1/jobs/{second['id']}").json()
    assert running["status"] == "running" and running["worker_id"] == "w-next" and running["attempts"] == 1
    # the claim it handed out is a real one: reporting it with next and nothing queued answers next=null
    last = report_next(w, nxt)
    assert last.status_code == 200 and last.json() == {"job_id": second["id"], "status": "succeeded", "next": None}
    # a plain report (older workers) still answers the JobView
    third = submit(op)
    claim = w.claim()
    assert claim is not None and claim["job_id"] == third["id"]
    plain = w.report(claim)
    assert plain.status_code == 200 and plain.json()["id"] == third["id"] and "next" not in plain.json()
    w.close()


def test_the_report_long_polls_for_the_next_job(op, controller, tokens) -> None:
    w = HttpWorker(controller, tokens["worker"], "w-poll")
    submit(op)
    claim = w.claim()
    box: dict = {}
    t = threading.Thread(target=lambda: box.update(r=report_next(w, claim, wait_s=30)))
    t.start()
    time.sleep(0.5)  # the report is stored and the claim half is waiting
    assert op.get(f"/v1/jobs/{claim['job_id']}").json()["status"] == "succeeded"  # committed before the wait
    later = submit(op)
    t.join(60)
    ack = box["r"].json()
    assert ack["next"] is not None and ack["next"]["job_id"] == later["id"]
    assert w.report(ack["next"]).status_code == 200
    w.close()


def test_labels_and_policies_of_the_claim_half_are_kept(op, controller, tokens) -> None:
    w = HttpWorker(controller, tokens["worker"], "w-plain-labels")
    submit(op)
    claim = w.claim()
    gpu_job = submit(op, labels=["gpu"])
    ack = report_next(w, claim).json()
    assert ack["next"] is None  # the queued job wants a label this worker does not have
    gpu = HttpWorker(controller, tokens["worker"], "w-gpu-labels", labels=["gpu"])
    submit(op, labels=["gpu"])
    first = gpu.claim()
    assert first is not None and first["job_id"] == gpu_job["id"]
    nxt = report_next(gpu, first, labels=["gpu"]).json()["next"]
    assert nxt is not None and nxt["job_id"] != gpu_job["id"]
    gpu.report(nxt)
    bad = report_next(gpu, first, labels=["no spaces allowed"])
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_label"
    w.close()
    gpu.close()


def test_a_refused_report_claims_nothing(op, controller, tokens) -> None:
    w = HttpWorker(controller, tokens["worker"], "w-refused")
    submit(op)
    claim = w.claim()
    waiting = submit(op)
    forged = report_next(w, {**claim, "claim_id": "c_forged"})
    assert forged.status_code == 409 and forged.json()["error"]["code"] == "not_claimed"
    assert op.get(f"/v1/jobs/{waiting['id']}").json()["status"] == "queued"
    assert w.report(claim).status_code == 200
    again = report_next(w, claim)  # a re-sent report (its first answer was lost): acknowledged, nothing claimed
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reported"
    assert op.get(f"/v1/jobs/{waiting['id']}").json()["status"] == "queued"
    nxt = w.claim()
    assert nxt is not None and nxt["job_id"] == waiting["id"]
    w.report(nxt)
    w.close()


def test_the_report_and_its_claim_are_one_audited_request(op, controller, tokens) -> None:
    w = HttpWorker(controller, tokens["worker"], "w-audit")
    submit(op)
    claim = w.claim()
    second = submit(op)
    r = report_next(w, claim)
    rid = r.headers["x-request-id"]
    with controller.client(controller.admin_token) as admin:
        events = admin.get("/v1/audit", params={"request_id": rid}).json()["records"]
    assert [e["event"] for e in events] == ["job_reported", "job_claimed"]
    assert events[1]["data"]["job_id"] == second["id"]
    w.report(r.json()["next"])
    w.close()


def _post_and_reset(url: str, path: str, token: str, body: dict) -> None:
    """Send a request and reset the connection without reading a byte of the answer (a lost response)."""
    parts = urlsplit(url)
    raw = json.dumps(body).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {parts.hostname}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(raw)}\r\n\r\n").encode()
    with socket.create_connection((parts.hostname, parts.port)) as s:
        s.sendall(head + raw)
        s.shutdown(socket.SHUT_WR)  # the request is complete; the controller serves it
        time.sleep(0.5)  # ... and commits, while the answer sits unread
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST


def test_a_lost_answer_after_the_commit_loses_the_claimed_job_and_runs_nothing_twice(controller_factory) -> None:
    ctl = controller_factory({"KITGATE_HEARTBEAT_TIMEOUT_S": "1", "KITGATE_LOST_CHECK_INTERVAL_S": "0.1"},
                             name="lost-answer")
    token = ctl.mint_token("worker")
    w = HttpWorker(ctl, token, "w-lost-answer")
    with ctl.client(ctl.mint_token("jobs:submit", "jobs:read")) as op:
        first = submit(op)
        claim = w.claim()
        second = submit(op)
        _post_and_reset(ctl.url, f"/v1/jobs/{claim['job_id']}/result?next=true",
                        token, {"status": "succeeded", "worker_id": "w-lost-answer", "claim_id": claim["claim_id"]})
        assert op.get(f"/v1/jobs/{first['id']}").json()["status"] == "succeeded"
        held = op.get(f"/v1/jobs/{second['id']}").json()
        assert held["status"] == "running" and held["worker_id"] == "w-lost-answer"  # committed with the report
        # the worker never saw it: it re-sends its report (acknowledged), and nothing more is claimed
        resent = report_next(w, claim)
        assert resent.status_code == 409 and resent.json()["error"]["code"] == "already_reported"
        # no heartbeat ever names the claimed job: it is declared lost, never re-queued
        lost = op.get(f"/v1/jobs/{second['id']}", params={"wait_s": 30}).json()
        assert lost["status"] == "lost" and lost["attempts"] == 1
        third = submit(op)
        nxt = w.claim()
        assert nxt is not None and nxt["job_id"] == third["id"]  # the lost job is not handed out again
        w.report(nxt)
    w.close()
