"""Fixtures for executor tests: a worker token on disk, job submission, and Kit stand-in loading."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

STANDIN = Path(__file__).parent / "kit_standin"
CUBE_JOB = "from pxr import UsdGeom\nUsdGeom.Cube.Define(stage, '/World/{name}')\nprint('made {name}')\n"
FAIL_JOB = "from pxr import UsdGeom\nUsdGeom.Cube.Define(stage, '/World/{name}')\nraise ValueError('boom')\n"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kit_expected_errors: the test expects carb.log_error (Kit logs it)")


@pytest.fixture(scope="module")
def ctl(controller_factory: Any) -> Any:
    """A controller of this module's own: a labelled worker may claim unlabelled jobs, so executor tests
    never share a controller with other test packages."""
    return controller_factory(name="executor-ctl")


@pytest.fixture(scope="module")
def worker_token_file(ctl: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tok") / "worker.token"
    path.write_text(ctl.mint_token("worker"))
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def operator(ctl: Any) -> Iterator[httpx.Client]:
    client = ctl.client(ctl.mint_token("jobs:submit", "jobs:read"))
    yield client
    client.close()


def submit(client: httpx.Client, code: str, **extra: Any) -> str:
    r = client.post("/v1/jobs", json={"code": code, **extra})
    assert r.status_code in (200, 201, 202), r.text
    return r.json()["id"]


def wait_job(client: httpx.Client, job_id: str, timeout: float = 60.0, pump: Any = None) -> dict[str, Any]:
    """Poll until the job is terminal (calling `pump()` between polls, e.g. Kit update ticks)."""
    terminal = {"succeeded", "failed", "timed_out", "rejected", "cancelled", "lost"}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in terminal:
            return job
        if pump is not None:
            pump()
        else:
            time.sleep(0.05)
    raise AssertionError(f"job {job_id} not finished in {timeout}s: {job}")


@pytest.fixture()
def kit_modules(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Put the Kit stand-ins on sys.path, import them and the binding; remove all of it afterwards.

    Like omni.kit.test's AsyncTestCaseFailOnLogError, a test FAILS if anything logged
    `carb.log_error` unless it is marked `@pytest.mark.kit_expected_errors`, and if any command, undo or
    redo ran off the main thread (stand-in thread check in omni.kit.undo).
    """
    sys.path.insert(0, str(STANDIN))
    import carb
    import carb.settings
    import omni.kit.undo
    import omni.usd

    carb.settings.get_settings().standin_clear()
    carb.LOG.clear()
    carb.LOG_THREADS.clear()
    omni.usd.standin_reset()
    omni.kit.undo.standin_reset()
    import kitgate.executor.extension as ext

    try:
        yield {"ext": ext}
        errors = carb.standin_errors()
        if errors and request.node.get_closest_marker("kit_expected_errors") is None:
            pytest.fail(f"carb.log_error was emitted (fails omni.kit.test runs): {errors}")
        assert omni.kit.undo.THREAD_VIOLATIONS == [], omni.kit.undo.THREAD_VIOLATIONS
    finally:
        omni.usd.standin_reset()
        sys.path.remove(str(STANDIN))
        for name in list(sys.modules):
            if name in ("omni", "carb") or name.startswith(("omni.", "carb.")) or name in (
                "kitgate.executor.extension", "kitgate.executor.ui"):
                del sys.modules[name]
