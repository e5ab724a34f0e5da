"""The worker keeps the count of approvals it waits on from its claim answers (a long-poll's 204, a claim, a
report that claims the next job) in its Status, which the Kit window shows: a real controller, an in-process
Runner with the headless host."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from kitgate.worker.headless import HeadlessHost
from kitgate.worker.runner import Runner, RunnerConfig

from .conftest import CUBE_JOB, submit, wait_job


def _drive(runner: Runner, until: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, ("timed out", runner.status())
        runner.tick(0.05)


def test_status_follows_the_approvals_waiting_for_this_worker(ctl: Any, worker_token_file: Path,
                                                              operator: httpx.Client, tmp_path: Path) -> None:
    first = submit(operator, CUBE_JOB.format(name="First"), labels=["site-q"], policy="trusted")
    second = submit(operator, CUBE_JOB.format(name="Second"), labels=["site-q"], policy="trusted")
    submit(operator, CUBE_JOB.format(name="Elsewhere"), labels=["site-z"], policy="trusted")  # not for it
    cfg = RunnerConfig(controller_url=ctl.url, token=worker_token_file.read_text().strip(),
                       state_dir=tmp_path / "state", labels=["site-q"], poll_wait_s=0.5, heartbeat_s=0.2,
                       backoff_initial_s=0.05, backoff_max_s=0.2, worker_id="approvals-status")
    runner = Runner(cfg, HeadlessHost(tmp_path / "stage.usda", save=True))
    assert runner.status().approvals_waiting is None  # not told yet
    runner.start()
    try:
        _drive(runner, lambda: runner.status().approvals_waiting == 2)
        with ctl.admin() as admin:
            assert admin.post(f"/v1/jobs/{first}/approve").status_code == 200
            # the claim of `first` and its report (which asks for the next job) both say 1
            _drive(runner, lambda: any(j == first for j, _ in runner.status().last_results))
            assert runner.status().approvals_waiting == 1
            assert wait_job(operator, first)["status"] == "succeeded"
            assert admin.post(f"/v1/jobs/{second}/reject", json={"reason": "not today"}).status_code == 200
        _drive(runner, lambda: runner.status().approvals_waiting == 0)
    finally:
        runner.stop()


def test_a_garbled_count_is_ignored_and_a_huge_one_capped() -> None:
    """The header comes from the network: only a plain ASCII integer is kept, never above the cap."""
    from kitgate.protocol.wire import APPROVALS_WAITING_CAP
    from kitgate.worker.handoff import Handoff

    h = Handoff()
    h.note_approvals_waiting("7")
    for garbage in (None, "", "-1", "+3", "1e3", " 5", "\u0661\u0662", "x" * 100, "9" * 13):
        h.note_approvals_waiting(garbage)
        assert h.approvals_waiting == 7, garbage
    h.note_approvals_waiting("999999999999")
    assert h.approvals_waiting == APPROVALS_WAITING_CAP
    h.note_approvals_waiting("0")
    assert h.approvals_waiting == 0
