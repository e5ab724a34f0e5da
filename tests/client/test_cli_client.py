"""`kitgate submit` / `kitgate status` / `kitgate mcp --http` refusal, as real subprocesses."""

from __future__ import annotations

import json

from harness import run_kitgate


def _env(live, token_file=None) -> dict[str, str]:
    return {"KITGATE_URL": live.url, "KITGATE_TOKEN_FILE": str(token_file or live.token_file)}


def test_submit_wait_json_then_status(live, tmp_path) -> None:
    script = tmp_path / "cube.py"
    script.write_text("from pxr import UsdGeom\nUsdGeom.Cube.Define(stage, '/World/CliCube')\nprint('hi')\n")
    proc = run_kitgate(["submit", str(script), "--wait", "--json"], env=_env(live), check=False)
    assert proc.returncode == 0, proc.stderr
    job = json.loads(proc.stdout)
    assert job["status"] == "succeeded" and "/World/CliCube" in job["result"]["changed_prims"]
    proc = run_kitgate(["status", job["id"]], env=_env(live), check=False)
    assert proc.returncode == 0
    assert proc.stdout.startswith("status: succeeded") and "hi" in proc.stdout


def test_submit_without_wait_queues(live, tmp_path) -> None:
    script = tmp_path / "q.py"
    script.write_text("result = 7\n")
    proc = run_kitgate(["submit", str(script), "--label", "nobody-has-this-label", "--json"], env=_env(live),
                       check=False)
    assert proc.returncode == 0, proc.stderr
    job = json.loads(proc.stdout)
    assert job["status"] == "queued" and job["labels"] == ["nobody-has-this-label"]
    with live.client() as c:
        c.cancel(job["id"])


def test_violation_exits_1_with_hint(live, tmp_path) -> None:
    script = tmp_path / "bad.py"
    script.write_text("x = 1\nimport socket\n")
    proc = run_kitgate(["submit", str(script), "--wait"], env=_env(live), check=False)
    assert proc.returncode == 1
    assert "line 2" in proc.stderr and "hint:" in proc.stderr


def test_reader_token_cannot_submit(live, tmp_path) -> None:
    script = tmp_path / "ok.py"
    script.write_text("x = 1\n")
    proc = run_kitgate(["submit", str(script), "--json"], env=_env(live, live.reader_token_file), check=False)
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["error"]["status"] == 403
    assert live.reader_token not in proc.stdout + proc.stderr


def test_mcp_http_refuses_public_bind() -> None:
    proc = run_kitgate(["mcp", "--http", "--host", "0.0.0.0"], check=False, timeout=30)
    assert proc.returncode == 2 and "refusing to bind" in proc.stderr


def test_status_of_unknown_job_in_process(live, monkeypatch) -> None:
    from typer.testing import CliRunner

    from kitgate.cli import build_app

    monkeypatch.setenv("KITGATE_URL", live.url)
    monkeypatch.setenv("KITGATE_TOKEN", live.token)
    res = CliRunner().invoke(build_app(), ["status", "j_doesnotexist", "--json"])
    assert res.exit_code == 2
    err = json.loads(res.stdout)["error"]
    assert err["code"] == "not_found" and err["status"] == 404 and err["request_id"]
    assert live.token not in res.stdout
