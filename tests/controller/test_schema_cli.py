"""shared_schema.json must match the live OpenAPI schema; `kitgate serve` fails cleanly on bad config."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
from harness import ControllerProcess, run_kitgate

REPO = Path(__file__).resolve().parents[2]


def test_shared_schema_is_current() -> None:
    from kitgate.controller.schema import render_schema

    committed = (REPO / "shared_schema.json").read_text()
    hint = "shared_schema.json drifted: run `kitgate export-schema --output shared_schema.json`"
    assert committed == render_schema(), hint


def test_export_schema_check_command(tmp_path) -> None:
    out = tmp_path / "schema.json"
    run_kitgate(["export-schema", "--output", str(out)])
    assert run_kitgate(["export-schema", "--output", str(out), "--check"], check=False).returncode == 0
    out.write_text("{}")
    assert run_kitgate(["export-schema", "--output", str(out), "--check"], check=False).returncode == 1


def test_live_schema_matches_the_file(controller: ControllerProcess) -> None:
    live = httpx.get(f"{controller.url}/openapi.json").json()
    assert live == json.loads((REPO / "shared_schema.json").read_text())
    paths = set(live["paths"])
    for p in ("/v1/jobs", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/cancel", "/v1/jobs/{job_id}/approve",
              "/v1/jobs/{job_id}/result", "/v1/validate", "/v1/workers/claim", "/v1/workers/heartbeat",
              "/v1/policies", "/v1/policies/{name}", "/execute", "/queue", "/status/{task_id}", "/last_status",
              "/next_code", "/status_update", "/healthz", "/readyz", "/metrics"):
        assert p in paths, p


def one_line_error(proc) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_bad_config_is_one_clean_line(tmp_path) -> None:
    line = one_line_error(run_kitgate(["serve", "--data-dir", str(tmp_path)], env={"KITGATE_PORT": "99999"},
                                      check=False))
    assert "KITGATE_PORT" in line
    line = one_line_error(run_kitgate(["serve", "--data-dir", str(tmp_path)],
                                      env={"KITGATE_RATE_SUBMIT": "lots"}, check=False))
    assert "KITGATE_RATE_SUBMIT" in line
    line = one_line_error(run_kitgate(["serve", "--data-dir", str(tmp_path)],
                                      env={"KITGATE_DEFAULT_POLICY": "no-such-policy"}, check=False))
    assert "no-such-policy" in line
    cfg = tmp_path / "bad.toml"
    cfg.write_text("port = [")
    line = one_line_error(run_kitgate(["serve", "--data-dir", str(tmp_path)], env={"KITGATE_CONFIG": str(cfg)},
                                      check=False))
    assert "KITGATE_CONFIG" in line


def test_port_in_use_is_one_clean_line(tmp_path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        line = one_line_error(run_kitgate(["serve", "--data-dir", str(tmp_path), "--port", str(port)], check=False))
    assert str(port) in line


def test_toml_config_file_is_read(tmp_path) -> None:
    cfg = tmp_path / "kitgate.toml"
    cfg.write_text('[kitgate]\nclaim_max_wait_s = 0.25\nlist_limit_max = 3\n')
    ctl = ControllerProcess(tmp_path / "ctl", env={"KITGATE_CONFIG": str(cfg)})
    try:
        with ctl.admin() as admin:
            for _ in range(5):
                admin.post("/v1/jobs", json={"code": "x = 1\n", "labels": ["nobody"]})
            assert len(admin.get("/v1/jobs", params={"limit": 100}).json()["jobs"]) == 3
    finally:
        ctl.stop()
