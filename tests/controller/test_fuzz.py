"""Schema-based fuzzing (schemathesis CLI) against a live controller: no input may produce a 5xx."""

from __future__ import annotations

import subprocess

from harness import VENV_BIN, ControllerProcess

FUZZ_ENV = {  # keep every long-poll short so the bounded run covers many inputs
    "KITGATE_CLAIM_MAX_WAIT_S": "0.1",
    "KITGATE_MAX_WAIT_S": "0.2",
    "KITGATE_EXECUTE_DEFAULT_WAIT_S": "0.1",
}


def run_schemathesis(ctl: ControllerProcess, token: str, tmp_path, max_time: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "st"), "run", f"{ctl.url}/openapi.json",
         "--header", f"Authorization: Bearer {token}",
         "--checks", "not_a_server_error",
         "--phases", "examples,coverage,fuzzing",
         "--max-examples", "30", "--max-time", str(max_time), "--workers", "1",
         "--seed", "20261125", "--no-shrink", "--generation-database", "none",
         "--request-timeout", "10", "--no-color", "--warnings", "off",
         "--report-dir", str(tmp_path / "st-report")],
        capture_output=True, text=True, timeout=max_time + 120,
        cwd=tmp_path,  # schemathesis keeps a .schemathesis/ cache in its working directory
    )


def test_schemathesis_finds_no_server_errors(controller_factory, tmp_path) -> None:
    ctl = controller_factory(FUZZ_ENV, name="fuzz")
    proc = run_schemathesis(ctl, ctl.admin_token, tmp_path, max_time=45)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "not_a_server_error" in out or "passed" in out.lower(), out[-2000:]
    assert '"status":500' not in ctl.logs()


def test_schemathesis_as_a_worker_finds_no_server_errors(controller_factory, tmp_path) -> None:
    """Admin tokens never act as workers, so the claim/heartbeat/result bodies need their own run."""
    ctl = controller_factory(FUZZ_ENV, name="fuzz-worker")
    proc = run_schemathesis(ctl, ctl.mint_token("worker"), tmp_path, max_time=30)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert '"status":500' not in ctl.logs()
