"""`kitgate worker --save` keeps the stage file's mode, and saves atomically, over real processes.

Why: the atomic save wrote a private temp file (mkstemp: 0600) and renamed it over the stage, so a stage
shared with a group (0640) became owner-only after the first job.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from pxr import Usd
from worker_harness import WorkerProcess

from .conftest import CUBE_JOB, FAIL_JOB, submit, wait_job


@pytest.mark.parametrize("mode", [0o640, 0o604])
def test_worker_save_keeps_the_mode(ctl: Any, worker_token_file: Path, operator: httpx.Client, tmp_path: Path,
                                    mode: int) -> None:
    stage_path = tmp_path / "shared.usda"
    Usd.Stage.CreateNew(str(stage_path)).Save()
    os.chmod(stage_path, mode)
    label = f"mode-{mode:o}"
    w = WorkerProcess(ctl.url, worker_token_file, stage_path, labels=[label], worker_id=f"worker-{label}")
    try:
        inode = stage_path.stat().st_ino
        job = wait_job(operator, submit(operator, CUBE_JOB.format(name="Saved"), labels=[label]))
        assert job["status"] == "succeeded", (job, w.logs()[-2000:])
        assert Usd.Stage.Open(str(stage_path)).GetPrimAtPath("/World/Saved").IsValid()
        assert stat.S_IMODE(stage_path.stat().st_mode) == mode
        assert stage_path.stat().st_ino != inode  # replaced by rename (atomic), not rewritten in place
        failed = wait_job(operator, submit(operator, FAIL_JOB.format(name="Nope"), labels=[label]))
        assert failed["status"] == "failed"
        assert stat.S_IMODE(stage_path.stat().st_mode) == mode
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".shared.") and p.suffix == ".usda"] == []
    finally:
        w.kill()
