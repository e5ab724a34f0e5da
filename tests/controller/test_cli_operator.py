"""Day-two CLI over a real controller (and a real worker where one matters), as subprocesses.

Covers: `submit --wait` that says what it waits for and cancels what has not started (timeout, Ctrl-C),
`--detach`, `--json` staying one JSON document; `jobs list|show|cancel|approve|reject`, `workers list`
(connected / silent / stopped), `audit show`, `--version`; the SDK's wait-timeout message and the
agent toolkit's progress lines and cancel-on-timeout.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from harness import FAST_ENV, KITGATE, ControllerProcess, HttpWorker, clean_env, run_kitgate
from worker_harness import WorkerProcess

from kitgate.client.errors import WaitTimeout
from kitgate.client.sdk import KitgateClient
from kitgate.client.toolkit import KitToolkit
from kitgate.protocol.status import JobStatus  # what the SDK returns

NOBODY = ["label-no-worker-has"]
# A short presence window (claim wait 1 s + heartbeat timeout 2 s), so "silent" shows up within seconds.
ENV = {**FAST_ENV, "KITGATE_CLAIM_MAX_WAIT_S": "1", "KITGATE_HEARTBEAT_TIMEOUT_S": "2"}


@pytest.fixture(scope="module")
def ctl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControllerProcess]:
    with ControllerProcess(tmp_path_factory.mktemp("cli-ops"), env=ENV) as c:
        yield c


@pytest.fixture(scope="module")
def tokens(ctl: ControllerProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("cli-ops-tokens")
    files = {"admin": ctl.data_dir / "admin.token"}
    for name, scopes in (("user", ("jobs:submit", "jobs:read")), ("worker", ("worker",))):
        f = base / f"{name}.token"
        f.write_text(ctl.mint_token(*scopes) + "\n")
        f.chmod(0o600)
        files[name] = f
    return files


def _env(ctl: ControllerProcess, token_file: Path) -> dict[str, str]:
    return {"KITGATE_URL": ctl.url, "KITGATE_TOKEN_FILE": str(token_file)}


def _kg(ctl: ControllerProcess, token_file: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return run_kitgate(list(args), env=_env(ctl, token_file), check=False, timeout=timeout)


def _script(tmp_path: Path, code: str = "result = 41 + 1\n", name: str = "job.py") -> str:
    path = tmp_path / name
    path.write_text(code)
    return str(path)


def _sdk(ctl: ControllerProcess, token_file: Path) -> KitgateClient:
    return KitgateClient(ctl.url, token_file.read_text().strip())


def test_version_matches_the_package() -> None:
    proc = run_kitgate(["--version"])
    assert proc.stdout.strip() == f"kitgate {metadata.version('kitgate')}"


def test_wait_timeout_names_the_job_says_why_and_cancels_it(ctl, tokens, tmp_path) -> None:
    proc = _kg(ctl, tokens["user"], "submit", _script(tmp_path), "--wait", "--timeout", "2", "--label", NOBODY[0])
    assert proc.returncode == 1, proc.stderr
    job_id = re.search(r"job (j_[0-9a-f]+) submitted", proc.stderr).group(1)
    lines = proc.stderr.splitlines()
    assert lines[0].startswith(f"job {job_id} submitted")  # the id comes first, before any waiting
    assert f"job {job_id}: queued at position" in proc.stderr
    assert "0 with labels label-no-worker-has" in proc.stderr
    assert "had not started, so it was cancelled" in proc.stderr
    with _sdk(ctl, tokens["user"]) as sdk:
        assert sdk.status(job_id).status is JobStatus.cancelled


def test_detach_leaves_the_job_queued(ctl, tokens, tmp_path) -> None:
    proc = _kg(ctl, tokens["user"], "submit", _script(tmp_path), "--wait", "--timeout", "1", "--detach",
               "--label", NOBODY[0])
    assert proc.returncode == 1
    job_id = re.search(r"job (j_[0-9a-f]+) submitted", proc.stderr).group(1)
    assert "left as it is (--detach)" in proc.stderr
    with _sdk(ctl, tokens["user"]) as sdk:
        assert sdk.status(job_id).status is JobStatus.queued
        sdk.cancel(job_id)


def test_json_output_stays_one_document(ctl, tokens, tmp_path) -> None:
    proc = _kg(ctl, tokens["user"], "submit", _script(tmp_path), "--wait", "--timeout", "1", "--json",
               "--label", NOBODY[0])
    assert proc.returncode == 1
    job = json.loads(proc.stdout)  # the whole of stdout is the job
    assert job["status"] == "cancelled"
    assert proc.stderr == ""


def test_ctrl_c_cancels_a_job_that_has_not_started(ctl, tokens, tmp_path) -> None:
    args = [KITGATE, "submit", _script(tmp_path), "--wait", "--label", NOBODY[0]]
    proc = subprocess.Popen(args, env=clean_env(_env(ctl, tokens["user"])), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    first = proc.stderr.readline()  # blocks until the job id is printed
    job_id = re.search(r"job (j_[0-9a-f]+) submitted", first).group(1)
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted" in rest and "cancelled" in rest
    with _sdk(ctl, tokens["user"]) as sdk:
        assert sdk.status(job_id).status is JobStatus.cancelled


def test_wait_shows_the_running_worker_and_does_not_cancel_it(ctl, tokens, tmp_path) -> None:
    label = "op-running"
    proc = subprocess.Popen(
        [KITGATE, "submit", _script(tmp_path), "--wait", "--timeout", "30", "--label", label],
        env=clean_env(_env(ctl, tokens["user"])), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stderr.readline()
    job_id = re.search(r"job (j_[0-9a-f]+) submitted", first).group(1)
    worker = HttpWorker(ctl, tokens["worker"].read_text().strip(), worker_id="op-worker-run", labels=[label])
    try:
        claim = None
        for _ in range(100):
            claim = worker.claim(wait_s=1)
            if claim:
                break
        assert claim and claim["job_id"] == job_id
        worker.heartbeat(claim)
        line = ""
        while "running on" not in line:
            line = proc.stderr.readline()
            assert line, "the wait ended before it reported the running worker"
        assert f"job {job_id}: running on op-worker-run" in line
        assert worker.report(claim, "succeeded", value=42).status_code == 200
        out, _ = proc.communicate(timeout=60)
    finally:
        worker.close()
    assert proc.returncode == 0
    assert out.startswith("status: succeeded") and "worker: op-worker-run" in out


def test_approve_reject_and_status_wording(ctl, tokens, tmp_path) -> None:
    admin = tokens["admin"]
    proc = _kg(ctl, admin, "submit", _script(tmp_path), "--policy", "trusted", "--json")
    assert proc.returncode == 0, proc.stderr
    first = json.loads(proc.stdout)["id"]
    assert json.loads(proc.stdout)["status"] == "pending_approval"
    shown = _kg(ctl, admin, "status", first)
    assert "waiting for approval by an operator" in shown.stdout and "not finished" not in shown.stdout

    approved = _kg(ctl, admin, "jobs", "approve", first, "--json")
    assert approved.returncode == 0 and json.loads(approved.stdout)["status"] == "queued"
    assert _kg(ctl, admin, "jobs", "cancel", first).stdout.strip() == f"job {first}: cancelled"

    second = json.loads(_kg(ctl, admin, "submit", _script(tmp_path), "--policy", "trusted", "--json").stdout)["id"]
    rejected = _kg(ctl, admin, "jobs", "reject", second, "--reason", "not during the review", "--json")
    job = json.loads(rejected.stdout)
    assert job["status"] == "rejected"
    assert job["result"]["error"] == {"type": "rejected_by_operator", "message": "not during the review",
                                      "line": None}
    again = _kg(ctl, admin, "jobs", "reject", second, "--reason", "twice")
    assert again.returncode == 2 and "is rejected" in again.stderr

    # a scoped token cannot approve: one human line, exit 2
    user_job = json.loads(_kg(ctl, tokens["user"], "submit", _script(tmp_path), "--label", NOBODY[0],
                              "--json").stdout)["id"]
    refused = _kg(ctl, tokens["user"], "jobs", "approve", user_job)
    assert refused.returncode == 2 and refused.stderr.startswith("error: not allowed")
    assert _kg(ctl, tokens["user"], "jobs", "cancel", user_job).returncode == 0


def test_jobs_list_filters_and_show(ctl, tokens, tmp_path) -> None:
    user = tokens["user"]
    ids = [json.loads(_kg(ctl, user, "submit", _script(tmp_path, f"x = {i}\n"), "--label", NOBODY[0], "--policy",
                          policy, "--json").stdout)["id"]
           for i, policy in enumerate(("readonly", "scene-edit", "readonly"))]
    listed = json.loads(_kg(ctl, user, "jobs", "list", "--status", "queued", "--policy", "readonly", "--since", "10m",
                            "--json").stdout)["jobs"]
    got = [j["id"] for j in listed]
    assert ids[0] in got and ids[2] in got and ids[1] not in got
    assert all(j["policy"] == "readonly" and j["status"] == "queued" for j in listed)
    assert got.index(ids[2]) < got.index(ids[0])  # newest first
    future = json.loads(_kg(ctl, user, "jobs", "list", "--since", "2999-01-01T00:00", "--json").stdout)["jobs"]
    assert future == []
    table = _kg(ctl, user, "jobs", "list", "--policy", "readonly").stdout
    assert ids[0] in table and "readonly" in table

    show = json.loads(_kg(ctl, tokens["admin"], "jobs", "show", ids[1], "--json").stdout)
    assert show["code"] == "x = 1\n" and show["job"]["policy"] == "scene-edit"
    assert show["progress"]["status"] == "queued" and show["progress"]["position"] >= 1
    assert [r["event"] for r in show["audit"]] == ["job_submitted"]
    text = _kg(ctl, user, "jobs", "show", ids[1]).stdout
    assert "x = 1" in text and "audit: not shown (needs an admin token)" in text
    for job_id in ids:
        assert _kg(ctl, user, "jobs", "cancel", job_id).returncode == 0
    show = json.loads(_kg(ctl, tokens["admin"], "jobs", "show", ids[1], "--json").stdout)
    assert [r["event"] for r in show["audit"]] == ["job_submitted", "job_cancelled"]


def test_audit_show_by_job_and_request_id(ctl, tokens, tmp_path) -> None:
    admin = tokens["admin"]
    job_id = json.loads(_kg(ctl, tokens["user"], "submit", _script(tmp_path), "--label", NOBODY[0],
                            "--json").stdout)["id"]
    records = json.loads(_kg(ctl, admin, "audit", "show", "--job", job_id, "--json").stdout)["records"]
    assert [r["event"] for r in records] == ["job_submitted"] and records[0]["data"]["job_id"] == job_id
    rid = records[0]["request_id"]
    by_request = json.loads(_kg(ctl, admin, "audit", "show", "--request-id", rid, "--json").stdout)["records"]
    assert [r["seq"] for r in by_request] == [records[0]["seq"]]
    text = _kg(ctl, admin, "audit", "show", "--job", job_id).stdout
    assert "job_submitted" in text and f"request {rid}" in text
    refused = _kg(ctl, tokens["user"], "audit", "show", "--json")
    assert refused.returncode == 2 and json.loads(refused.stdout)["error"]["status"] == 403
    _kg(ctl, tokens["user"], "jobs", "cancel", job_id)


def _presence(ctl: ControllerProcess, tokens: dict[str, Path], worker_id: str) -> str | None:
    workers = json.loads(_kg(ctl, tokens["admin"], "workers", "list", "--json").stdout)["workers"]
    return next((w["presence"] for w in workers if w["id"] == worker_id), None)


def _until(fn, want: str, timeout: float = 30.0) -> str | None:
    deadline = time.monotonic() + timeout
    seen = fn()
    while seen != want and time.monotonic() < deadline:
        time.sleep(0.3)
        seen = fn()
    return seen


def test_workers_list_shows_connected_stopped_and_silent(ctl, tokens, tmp_path) -> None:
    worker = WorkerProcess(ctl.url, tokens["worker"], tmp_path / "stage.usda", worker_id="op-real-worker",
                           labels=["op-real"], poll_wait_s=1.0)
    try:
        assert _until(lambda: _presence(ctl, tokens, "op-real-worker"), "connected") == "connected"
        table = _kg(ctl, tokens["admin"], "workers", "list").stdout
        assert re.search(r"op-real-worker\s+connected", table)
    finally:
        worker.stop()
    assert _presence(ctl, tokens, "op-real-worker") == "stopped"  # it said so on its way out

    silent = HttpWorker(ctl, tokens["worker"].read_text().strip(), worker_id="op-silent-worker")
    try:
        assert silent.claim(wait_s=0) is None
        assert _presence(ctl, tokens, "op-silent-worker") == "connected"
        # it never polls again: after the claim wait + heartbeat timeout it is silent, not "claiming"
        assert _until(lambda: _presence(ctl, tokens, "op-silent-worker"), "silent") == "silent"
    finally:
        silent.close()
    refused = _kg(ctl, tokens["user"], "workers", "list")
    assert refused.returncode == 2 and "not allowed" in refused.stderr


def test_sdk_wait_timeout_reports_the_real_wait(ctl, tokens) -> None:
    with _sdk(ctl, tokens["user"]) as sdk:
        with pytest.raises(WaitTimeout) as caught:
            sdk.execute("x = 1\n", timeout_s=1.5, labels=NOBODY)
        message = str(caught.value)
        waited = float(re.search(r"after ([0-9.]+) s", message).group(1))
        assert waited >= 1.5, message  # the old message said "after 0.1s" whatever the wait had been
        assert "queued at position" in message and "0 with labels" in message
        assert caught.value.progress is not None and caught.value.progress.workers_matching == 0
        sdk.cancel(caught.value.job.id)


def test_toolkit_names_the_job_at_once_and_cancels_on_timeout(ctl, tokens) -> None:
    lines: list[str] = []
    toolkit = KitToolkit(_sdk(ctl, tokens["user"]), timeout_s=1.5, labels=NOBODY, on_progress=lines.append)
    try:
        text = toolkit.kit_execute("x = 1\n")
    finally:
        toolkit.close()
    job_id = re.search(r"job: (j_[0-9a-f]+)", text).group(1)
    assert lines and lines[0].startswith(f"job {job_id}: queued")
    assert text.startswith("status: cancelled") and "cannot run later" in text and text.ok is False
    with _sdk(ctl, tokens["user"]) as sdk:
        assert sdk.status(job_id).status is JobStatus.cancelled


def test_agent_tools_name_the_stage_and_warn_when_stages_differ(ctl, tokens, tmp_path) -> None:
    stages = {name: tmp_path / f"{name}.usda" for name in ("site-a", "site-b")}
    workers = [WorkerProcess(ctl.url, tokens["worker"], path, worker_id=f"op-{name}", labels=[name],
                             poll_wait_s=1.0) for name, path in stages.items()]
    toolkit = KitToolkit(_sdk(ctl, tokens["user"]), timeout_s=60)
    try:
        for w in workers:
            assert _until(lambda w=w: _presence(ctl, tokens, w.args[w.args.index("--worker-id") + 1]),
                          "connected") == "connected"
        aimed = toolkit.kit_scene_summary(labels=["site-b"])
        assert f"answered by worker op-site-b on stage {stages['site-b']}" in aimed and "note:" not in aimed
        made = toolkit.kit_execute("from pxr import UsdGeom\nUsdGeom.Cube.Define(stage, '/World/A')\n",
                                   labels=["site-a"])
        assert made.startswith("status: succeeded") and f"worker: op-site-a (stage {stages['site-a']})" in made
        unaimed = toolkit.kit_scene_summary()
        assert "note: 2 connected workers serve different stages" in unaimed
        assert str(stages["site-a"]) in unaimed and str(stages["site-b"]) in unaimed
    finally:
        toolkit.close()
        for w in workers:
            w.stop()
