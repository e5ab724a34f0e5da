"""/metrics in Prometheus format: jobs by status, queue depth, claim wait and end-to-end latency."""

from __future__ import annotations

import httpx
from harness import ControllerProcess, HttpWorker


def sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{") and line.split(" ")[0] == name:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in metrics")


def test_metrics_reflect_the_queue(controller: ControllerProcess, tokens: dict[str, str]) -> None:
    w = HttpWorker(controller, tokens["worker"], "w-metrics")
    with controller.client(tokens["operator"]) as op:
        for _ in range(3):
            op.post("/v1/jobs", json={"code": "x = 1\n"})
        claim = w.claim()
        w.report(claim)
        op.post("/v1/jobs", json={"code": "import os\n"})
    text = httpx.get(f"{controller.url}/metrics").text  # loopback: allowed without a token
    assert sample(text, "kitgate_queue_depth") == 2
    assert sample(text, 'kitgate_jobs{status="queued"}') == 2
    assert sample(text, 'kitgate_jobs{status="succeeded"}') == 1
    assert sample(text, "kitgate_claim_wait_seconds_count") == 1
    assert sample(text, "kitgate_job_latency_seconds_count") == 1
    assert sample(text, 'kitgate_policy_violations_total{policy="scene-edit"}') == 1
    assert 'kitgate_http_requests_total{method="POST",route="/v1/jobs",status="202"} 3.0' in text
    with controller.admin() as admin:
        assert admin.get("/v1/metrics").status_code == 200
    with controller.client(tokens["operator"]) as op:
        assert op.get("/v1/metrics").status_code == 403
    w.close()


def test_metrics_refuse_non_loopback_when_configured(controller_factory) -> None:
    ctl = controller_factory({"KITGATE_METRICS_ALLOW_LOOPBACK": "false"}, name="nometrics")
    assert httpx.get(f"{ctl.url}/metrics").status_code in (401, 403)
    with ctl.admin() as admin:
        assert admin.get("/metrics").status_code == 200


def test_audit_trail_records_job_decisions(controller: ControllerProcess, tokens: dict[str, str]) -> None:
    with controller.client(tokens["operator"]) as op:
        job = op.post("/v1/jobs", json={"code": "x = 2\n"}).json()
        op.post("/v1/jobs", json={"code": "import socket\n"})
        assert op.get("/v1/audit").status_code == 403
    with controller.admin() as admin:
        records = admin.get("/v1/audit", params={"limit": 1000}).json()["records"]
        submitted = [r for r in records if r["event"] == "job_submitted" and r["data"].get("job_id") == job["id"]]
        assert len(submitted) == 1 and submitted[0]["request_id"]
        assert any(r["event"] == "job_refused" for r in records)
        assert "import socket" not in str(records)  # code is never copied into the trail
        only = admin.get("/v1/audit", params={"event": "job_refused"}).json()["records"]
        assert only and all(r["event"] == "job_refused" for r in only)
