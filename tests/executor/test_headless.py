"""`kitgate worker` processes against a real controller: save semantics, labels, clean shutdown."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from worker_harness import WorkerProcess

from .conftest import CUBE_JOB, FAIL_JOB, submit, wait_job


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out.update(int(x) for x in text)
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="module")
def two_workers(ctl: Any, worker_token_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    d = tmp_path_factory.mktemp("stages")
    a = WorkerProcess(ctl.url, worker_token_file, d / "a.usda", labels=["site-a"], worker_id="worker-a")
    b = WorkerProcess(ctl.url, worker_token_file, d / "b.usda", labels=["site-b"], worker_id="worker-b")
    yield a, b
    a.kill()
    b.kill()


def test_labelled_jobs_reach_their_worker_and_are_saved(two_workers: Any, operator: httpx.Client) -> None:
    a, b = two_workers
    job_a = wait_job(operator, submit(operator, CUBE_JOB.format(name="OnA"), labels=["site-a"]))
    job_b = wait_job(operator, submit(operator, CUBE_JOB.format(name="OnB"), labels=["site-b"]))
    assert job_a["status"] == "succeeded", (job_a, a.logs()[-2000:])
    assert job_b["status"] == "succeeded", (job_b, b.logs()[-2000:])
    assert job_a["result"]["worker_id"] == "worker-a" and job_b["result"]["worker_id"] == "worker-b"
    text_a, text_b = a.stage_path.read_text(), b.stage_path.read_text()
    assert "OnA" in text_a and "OnB" not in text_a
    assert "OnB" in text_b and "OnA" not in text_b
    timings = job_a["result"]["timings"]
    assert timings["claimed_at"] <= timings["started_at"] <= timings["finished_at"]
    assert "made OnA" in job_a["result"]["stdout"]


def test_trusted_in_process_job_is_saved_too(ctl: Any, two_workers: Any, operator: httpx.Client) -> None:
    """Trusted jobs edit the stage in place (no delta to apply); --save must still write them out."""
    a, _b = two_workers
    job_id = submit(operator, CUBE_JOB.format(name="Trusted"), labels=["site-a"], policy="trusted")
    with ctl.admin() as admin:
        assert admin.post(f"/v1/jobs/{job_id}/approve").status_code == 200
    job = wait_job(operator, job_id)
    assert job["status"] == "succeeded", (job, a.logs()[-2000:])
    assert '"Trusted"' in a.stage_path.read_text()


def test_failed_job_leaves_the_saved_stage_byte_identical(two_workers: Any, operator: httpx.Client) -> None:
    a, _ = two_workers
    wait_job(operator, submit(operator, CUBE_JOB.format(name="Before"), labels=["site-a"]))
    before = a.stage_path.read_bytes()
    job = wait_job(operator, submit(operator, FAIL_JOB.format(name="Partial"), labels=["site-a"]))
    assert job["status"] == "failed"
    assert job["result"]["error"]["type"] == "ValueError"
    assert job["result"]["changed_prims"] == []
    assert a.stage_path.read_bytes() == before
    leftovers = [p.name for p in a.stage_path.parent.iterdir() if p.name.startswith(".a.") and p.suffix == ".usda"]
    assert leftovers == []  # no temp file from the atomic save


def test_policy_violation_is_rejected_by_the_controller_before_any_worker(operator: httpx.Client) -> None:
    r = operator.post("/v1/jobs", json={"code": "import os\nos.system('id')\n"})
    assert r.status_code == 422


def test_sigterm_stops_cleanly_without_leaving_children(ctl: Any, worker_token_file: Path, tmp_path: Path,
                                                        operator: httpx.Client) -> None:
    w = WorkerProcess(ctl.url, worker_token_file, tmp_path / "c.usda", labels=["site-c"], worker_id="worker-c")
    try:
        job = wait_job(operator, submit(operator, CUBE_JOB.format(name="OnC"), labels=["site-c"]))
        assert job["status"] == "succeeded", w.logs()[-2000:]
        kids = _children(w.pid)
        assert kids, "the warm fork server runs as the worker's child"
        assert w.stop() == 0, w.logs()[-2000:]
        assert [k for k in kids if _alive(k)] == []
        assert "stopped" in w.logs()
    finally:
        w.kill()
