"""The README's "Running the controller" block, run exactly as a new user pastes it, so it cannot drift.

The block is read from README.md (the sh block after the `quickstart` marker) and run by bash in an
empty folder whose `.venv` points at this venv. Only two things differ from a user's terminal: the port
(8750 becomes a free one, also given to `kitgate serve` and the client through KITGATE_PORT/KITGATE_URL,
so a controller already running on this machine cannot interfere) and the worker's state dir
(XDG_STATE_HOME, so the test does not write into the home folder). Real controller, real worker, real
job; afterwards the background processes are stopped the way the README says.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from harness import clean_env

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
MARKER = "<!-- quickstart:"


def quickstart_block(text: str) -> str:
    """The first ```sh block after the marker comment."""
    start = text.index(MARKER)
    match = re.compile(r"```sh\n(.*?)\n```", re.S).search(text, start)
    assert match is not None, "README quickstart marker is not followed by a ```sh block"
    return match.group(1) + "\n"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """The block leaves `serve` and `worker` in the background (bash's process group): SIGTERM them."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)


def test_readme_quickstart_block_runs_as_written(tmp_path: Path) -> None:
    block = quickstart_block(README.read_text())
    for step in ("kitgate serve", "kitgate worker", "token create", "KITGATE_TOKEN_FILE", "submit hello.py --wait"):
        assert step in block, f"the quickstart lost its {step!r} step"
    port = _free_port()
    script = block.replace("8750", str(port))
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    env = clean_env({"KITGATE_PORT": str(port), "KITGATE_URL": f"http://127.0.0.1:{port}",
                     "XDG_STATE_HOME": str(tmp_path / "state"), "KITGATE_LOG_LEVEL": "warning"})
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen(["bash", "-e", "-c", script], cwd=tmp_path, env=env, stdout=o, stderr=e,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            rc = proc.wait(timeout=150)
        except subprocess.TimeoutExpired:
            rc = None
        finally:
            _stop_group(proc)
    stdout, stderr = out.read_text(), err.read_text()
    assert rc == 0, f"quickstart exited {rc}\n--- stdout\n{stdout[-3000:]}\n--- stderr\n{stderr[-3000:]}"

    # the job's result, and the stage saved by the worker
    assert "status: succeeded" in stdout and "/World/Cube" in stdout and "made a cube" in stdout
    from pxr import Sdf

    layer = Sdf.Layer.OpenAsAnonymous(str(tmp_path / "scene.usda"))
    assert layer is not None and layer.GetPrimAtPath("/World/Cube")

    # `submit --wait` named the job at once, before its result
    job_id = re.search(r"job: (j_[0-9a-f]+)", stdout).group(1)
    assert f"job {job_id} submitted" in stderr

    # `kitgate serve` told the person what they need, and never a secret
    admin_token = (tmp_path / "kitgate-data" / "admin.token").read_text().strip()
    data_dir = (tmp_path / "kitgate-data").resolve()
    assert f"listening on http://127.0.0.1:{port}" in stdout
    assert f"admin token: {data_dir / 'admin.token'}" in stdout
    assert f"data dir:    {data_dir}" in stdout
    assert "policy dir:" in stdout and "workers:" in stdout and "connected" in stdout
    assert "kitgate: controller stopped" in stdout  # said on stop
    for secret in (admin_token, (tmp_path / "client.token").read_text().strip(),
                   (tmp_path / "worker.token").read_text().strip()):
        assert secret not in stdout + stderr


@pytest.mark.parametrize("name", ["worker.token", "client.token", "scene.usda", "hello.py", "kitgate-data/x"])
def test_files_the_quickstart_makes_are_git_ignored(name: str) -> None:
    proc = subprocess.run(["git", "check-ignore", "-q", name], cwd=REPO, capture_output=True)
    if proc.returncode == 128:
        pytest.skip("not a git checkout")
    assert proc.returncode == 0, f"{name} would show up in `git status` after the quickstart"
