"""A result larger than the controller accepts must never stall a worker (real HTTP, real `kitgate worker`).

Why: the controller refuses a request body over KITGATE_MAX_BODY_BYTES with 413. A worker that retried
such a report as it was would never deliver it, and every later result of that worker would queue behind
it. Here the controller takes at most 6 KiB per request (an operator's choice), a job prints and returns
far more than that (what of it is streamed live is refused too), and the worker
must still report it (trimmed, saying what was dropped and why) and then run and report the next job.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from executor.conftest import CUBE_JOB, submit, wait_job
from harness import ControllerProcess
from worker_harness import WorkerProcess

LIMIT = 6144  # below one live-output chunk (8192 characters), so live chunks are refused as well
# prints a lot (streamed live when it runs long enough: each such chunk is refused too) and returns a
# list far larger than LIMIT
BIG_JOB = (
    "from pxr import UsdGeom\n"
    "UsdGeom.Cube.Define(stage, '/World/Big')\n"
    "for i in range(1500):\n"
    "    print('line', i, 'x' * 30)\n"
    "    s = sorted(range(2000))\n"
    "list(range(5000))\n"
)


@pytest.fixture(scope="module")
def small_ctl(controller_factory: Callable[..., ControllerProcess]) -> ControllerProcess:
    return controller_factory(env={"KITGATE_MAX_BODY_BYTES": str(LIMIT)}, name="small-body")


def test_an_oversized_result_is_reported_trimmed_and_the_next_job_runs(small_ctl: ControllerProcess,
                                                                       tmp_path: Path) -> None:
    op = small_ctl.client(small_ctl.mint_token("jobs:submit", "jobs:read"))
    token = tmp_path / "w.token"
    token.write_text(small_ctl.mint_token("worker"))
    token.chmod(0o600)
    stage = tmp_path / "big.usda"
    w = WorkerProcess(small_ctl.url, token, stage, worker_id="w-big")
    try:
        big_id = submit(op, BIG_JOB)
        big = wait_job(op, big_id, timeout=45)
        result = big["result"]
        # the job's own status stands (its cube is in the stage); what was dropped is said in the result
        assert big["status"] == "succeeded", (big, w.logs()[-3000:])
        assert "Big" in stage.read_text()
        assert result["value"] is None
        err = result["error"]
        assert err["type"] == "ResultTooLarge", err
        assert f"{LIMIT} bytes" in err["message"] and "value" in err["message"], err
        assert "KITGATE_MAX_BODY_BYTES" in err["message"], err
        # stdout keeps its head and its tail around a marker; the cut is counted
        assert result["stdout"].startswith("line 0 "), result["stdout"][:200]
        assert "line 1499 " in result["stdout"][-200:], result["stdout"][-200:]
        assert "cut here" in result["stdout"]
        assert result["stdout_truncated"] > 0

        # the worker is not stuck behind it: the next job runs and is reported normally
        nxt = wait_job(op, submit(op, CUBE_JOB.format(name="After")), timeout=45)
        assert nxt["status"] == "succeeded", (nxt, w.logs()[-3000:])
        assert nxt["result"]["error"] is None
        assert "After" in stage.read_text()
        assert w.running
        # the controller did refuse the full report (and any live chunk the worker streamed while the job ran;
        # whether it streamed depends on timing, so live 413s are tested in executor/test_oversized_report.py)
        refused = sum(float(line.rsplit(" ", 1)[1]) for line in op.get("/metrics").text.splitlines()
                      if line.startswith("kitgate_http_requests_total") and 'status="413"' in line)
        assert refused >= 1, refused
    finally:
        w.stop()
        op.close()
