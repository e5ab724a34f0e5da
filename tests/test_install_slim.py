"""`pip install kitgate` (no extras) is the SDK and the client commands, and nothing heavy.

SLOW (about 1-2 minutes, marked `install`): builds a wheel from a copy of this checkout and installs it, with
its dependencies, into a fresh venv in a temp dir, through the machine's own pip configuration and cache.
Why a real install: only a real wheel shows what `pip install kitgate` ships. The editable install of the
dev venv sees every folder and every extra, so it hides a client that imports the server, a package
missing from pyproject's `packages`, or a dependency that should have been an extra.

Checked in that venv: usd-core, FastAPI, uvicorn, RestrictedPython and psycopg are absent; the SDK imports;
`kitgate --version` and `kitgate submit --help` work; a real `kitgate submit` / `status` reaches a real
controller (started from the dev venv); the server and worker commands answer with the one-line pip
command of their extra; the Kit binding (kitgate.executor) is not in the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from harness import ControllerProcess

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("pxr", "fastapi", "uvicorn", "RestrictedPython", "starlette", "psycopg", "psycopg_pool")

pytestmark = [pytest.mark.install, pytest.mark.timeout(900)]


def _copy_sources(dest: Path) -> Path:
    """pyproject.toml, README.md and every folder pyproject's package-dir names: what a build reads."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "pip_prebundle", "*.egg-info")
    for folder in sorted(set(project["tool"]["setuptools"]["package-dir"].values())):
        target = dest / folder
        if not target.exists():
            shutil.copytree(REPO / folder, target, ignore=ignore)
    return dest


def _run(args: list[str | Path], **kw: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH", "KITGATE_"))}
    env.update(kw.pop("env", {}))  # type: ignore[arg-type]
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, timeout=600,
                          check=False, **kw)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def slim_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("slim-install")
    source = _copy_sources(root / "src")
    venv = root / "venv"
    made = _run([sys.executable, "-m", "venv", venv])
    assert made.returncode == 0, made.stderr
    installed = _run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", source])
    assert installed.returncode == 0, f"pip install failed:\n{installed.stdout[-3000:]}\n{installed.stderr[-3000:]}"
    return venv


def _py(venv: Path, code: str) -> subprocess.CompletedProcess[str]:
    return _run([venv / "bin" / "python", "-c", code])


def test_nothing_heavy_is_installed(slim_venv: Path) -> None:
    probe = _py(slim_venv, "import importlib.util as u, json; "
                           f"print(json.dumps([m for m in {HEAVY!r} if u.find_spec(m) is not None]))")
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout) == []
    for module in ("pxr", "fastapi", "uvicorn"):
        failed = _py(slim_venv, f"import {module}")
        assert failed.returncode != 0 and "ModuleNotFoundError" in failed.stderr, module


def test_the_sdk_and_agent_toolkit_import(slim_venv: Path) -> None:
    probe = _py(slim_venv, "from kitgate.client import AsyncKitgateClient, KitgateClient, PolicyViolation; "
                           "from kitgate.client.toolkit import KitToolkit; import sys; "
                           "print(sorted(m for m in sys.modules if m.split('.')[0] in "
                           f"{HEAVY!r} or m.startswith('kitgate.controller')))")
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "[]"


def test_the_wheel_holds_the_right_packages(slim_venv: Path) -> None:
    probe = _py(slim_venv, "import importlib.util as u; print(u.find_spec('kitgate.executor') is None, "
                           "u.find_spec('kitgate.protocol') is not None, u.find_spec('kitgate.cli') is not None)")
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ["True", "True", "True"], "the Kit binding must not ship; protocol and cli must"


def test_client_commands_work(slim_venv: Path) -> None:
    kitgate = slim_venv / "bin" / "kitgate"
    version = _run([kitgate, "--version"])
    assert version.returncode == 0 and version.stdout.startswith("kitgate "), version.stderr
    helped = _run([kitgate, "submit", "--help"])
    assert helped.returncode == 0, helped.stderr
    assert "--wait" in helped.stdout


def test_slim_client_talks_to_a_real_controller(slim_venv: Path, controller: ControllerProcess,
                                                 tmp_path: Path) -> None:
    kitgate = slim_venv / "bin" / "kitgate"
    script = tmp_path / "job.py"
    script.write_text("print('hello from a slim client')\n")
    env = {"KITGATE_URL": controller.url, "KITGATE_TOKEN": controller.mint_token("jobs:submit", "jobs:read")}
    submitted = _run([kitgate, "submit", script, "--json"], env=env)
    assert submitted.returncode == 0, submitted.stderr
    job = json.loads(submitted.stdout)
    assert job["status"] == "queued"
    status = _run([kitgate, "status", job["id"], "--json"], env=env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["id"] == job["id"]
    refused = _run([kitgate, "submit", "-", "--json"], env=env, input="import os\n")
    assert refused.returncode == 1, refused.stderr  # the policy's refusal, read through the client's own models
    assert json.loads(refused.stdout)["error"]["code"] == "policy_violation"


@pytest.mark.parametrize(
    ("args", "extra"),
    [(["serve"], "server"), (["export-schema"], "server"), (["token", "list"], "server"),
     (["run", "x.py", "--stage", "s.usda"], "worker"), (["validate", "x.py"], "worker"),
     (["worker", "--controller", "http://127.0.0.1:9", "--token-file", "t", "--stage", "s.usda"], "worker")],
)
def test_heavy_commands_name_their_extra(slim_venv: Path, tmp_path: Path, args: list[str], extra: str) -> None:
    done = _run([slim_venv / "bin" / "kitgate", *args], cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"pip install 'kitgate[{extra}]'" in lines[0], done.stderr
