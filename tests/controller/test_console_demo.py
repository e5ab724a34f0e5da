"""`kitgate demo --serve` (what `make demo` runs) ends by printing the console URL, and a new user can sign in
there with the admin token and approve the trusted job it left waiting, which then runs on the demo's worker.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
from harness import KITGATE, clean_env


def _read_until_console(proc: subprocess.Popen[str], timeout: float = 240) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.strip().startswith("console "):
            return lines
    raise AssertionError("no console line:\n" + "\n".join(lines))


def test_demo_serve_ends_with_the_console_and_a_job_to_approve(tmp_path: Path) -> None:
    proc = subprocess.Popen([KITGATE, "demo", "--serve", "--output-dir", str(tmp_path / "out")], cwd=tmp_path,
                            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = _read_until_console(proc)
        text = "\n".join(lines)
        assert "all jobs ended as expected" in text
        console = re.search(r"console\s+(http://127\.0\.0\.1:\d+/console)$", lines[-1]).group(1)
        job_id = re.search(r"waiting for an operator's approval: (j_[0-9a-f]+)", text).group(1)
        admin_token = Path(re.search(r"admin token: (\S+)", text).group(1)).read_text().strip()
        base = console.removesuffix("/console")
        with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as tab:
            headers = {"Origin": base, "Sec-Fetch-Site": "same-origin"}
            pre = re.search(r'name="pre" value="([^"]+)"', tab.get("/console/login").text).group(1)
            assert tab.post("/console/login", data={"pre": pre, "token": admin_token},
                            headers=headers).status_code == 303
            queue = tab.get("/console/approvals").text
            assert job_id in queue and "ApprovedInTheConsole" in queue
            csrf = re.search(r'name="csrf" value="([^"]+)"', queue).group(1)
            approved = tab.post(f"/console/jobs/{job_id}/approve", data={"csrf": csrf}, headers=headers)
            assert approved.status_code == 303
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin_token}"}, timeout=60) as api:
            job = api.get(f"/v1/jobs/{job_id}", params={"wait_s": 60}).json()
        assert job["status"] == "succeeded", job
        assert "/World/ApprovedInTheConsole" in job["result"]["changed_prims"]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out[-2000:]
    assert "stopping" in out
