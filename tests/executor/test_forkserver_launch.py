"""How the sandbox's fork server is launched for Kit: interpreter, environment, sys.path hand-off.

Why: inside Kit, `pxr` comes from the omni.usd.libs extension; its shared libraries sit in a `bin/`
folder next to the package, which a fresh `python3 -I` does not search. The server must get exactly
the derived loader and plugin paths (nothing else of Kit's environment), and Kit's sys.path must reach
it over its socket, because one command-line argument is capped at 128 KiB on Linux.

The "Kit layout" here is built from the real usd-core: the `pxr` package is re-created (hard links)
in `extscache/omni.usd.libs-1.0/pxr`, its shared libraries in `.../bin` and its plugInfo files in
`.../bin/usd`, so the wheel's RPATH ($ORIGIN/../../usd_core.libs) no longer finds them.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pxr
import pytest
from pxr import Sdf, Usd

from kitgate.sandbox.executor import Executor, SandboxUnavailable, usd_loader_env
from kitgate.sandbox.policy import load_policy

from .conftest import CUBE_JOB, submit, wait_job

SITE = Path(pxr.__file__).resolve().parent.parent
JOB = "from pxr import UsdGeom\nc = UsdGeom.Cube.Define(stage, '/World/Made')\nprint(c.GetPrim().GetTypeName())\n"


def _link_tree(src: Path, dst: Path) -> None:
    """Re-create `src` at `dst` with real directories and hard-linked files (copy across filesystems)."""
    for root, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        target = dst / Path(root).relative_to(src)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            try:
                os.link(Path(root) / name, target / name)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                shutil.copy2(Path(root) / name, target / name)


@pytest.fixture(scope="module")
def kit_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    libs = SITE / "usd_core.libs"
    if not libs.is_dir():
        pytest.skip(f"usd-core without a separate usd_core.libs folder at {libs}; cannot build the layout")
    root = tmp_path_factory.mktemp("kit") / "extscache" / "omni.usd.libs-1.0"
    pkg = SITE / "pxr"
    for entry in pkg.iterdir():
        if entry.name in ("pluginfo", "__pycache__"):
            continue
        if entry.is_dir():
            _link_tree(entry, root / "pxr" / entry.name)
        else:
            (root / "pxr").mkdir(parents=True, exist_ok=True)
            os.link(entry, root / "pxr" / entry.name)
    _link_tree(pkg / "pluginfo", root / "bin" / "usd")
    _link_tree(libs, root / "bin")
    return root


def _proc_env(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_loader_env_is_derived_from_the_pxr_package(kit_layout: Path) -> None:
    env = usd_loader_env(kit_layout / "pxr")
    assert env == {"LD_LIBRARY_PATH": str(kit_layout / "bin"), "PXR_PLUGINPATH_NAME": str(kit_layout / "bin" / "usd")}
    assert usd_loader_env(SITE / "pxr") == {}  # a usd-core wheel needs nothing (RPATH)


def test_without_the_derived_paths_kits_pxr_does_not_import(kit_layout: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(kit_layout))
    ex = Executor(scratch_root=tmp_path / "s")
    try:
        with pytest.raises(SandboxUnavailable, match="libusd_ms"):
            ex.start()
    finally:
        ex.close()


def test_server_starts_with_only_the_derived_variables_and_uses_kits_pxr(kit_layout: Path, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(kit_layout))  # Kit's sys.path: omni.usd.libs before anything else
    derived = usd_loader_env(kit_layout / "pxr")
    with Executor(scratch_root=tmp_path / "s", server_env=derived) as ex:
        ex.start()
        pid = ex.server_pid
        assert pid is not None
        expected = {"PATH", "PXR_WORK_THREAD_LIMIT", "LD_LIBRARY_PATH", "PXR_PLUGINPATH_NAME"}
        expected |= {k for k in ("LANG", "LC_ALL") if k in os.environ}
        env = _proc_env(pid)
        assert set(env) == expected
        assert {k: env[k] for k in derived} == derived
        maps = Path(f"/proc/{pid}/maps").read_text()
        assert str(kit_layout / "bin" / "libusd_ms") in maps, "the server did not load Kit's USD libraries"
        assert str(SITE / "usd_core.libs") not in maps
        stage = Usd.Stage.Open(Sdf.Layer.CreateAnonymous(".usda"))
        outcome, delta = ex.execute(JOB, load_policy("scene-edit"), stage, 30)
        assert outcome.status == "succeeded", outcome  # schema types need the plugInfo files: found
        assert "Cube" in outcome.stdout


def test_other_variables_cannot_reach_the_server(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="PYTHONPATH"):
        Executor(scratch_root=tmp_path / "s", server_env={"PYTHONPATH": "/x"})


def test_a_sys_path_over_128_kib_reaches_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    many = []
    for i in range(1400):
        d = tmp_path / "p" / (f"{i:05d}_" + "x" * 100)
        d.mkdir(parents=True)
        many.append(str(d))
    size = len(("\0".join(many)).encode())
    assert size > 128 * 1024
    big = "x" * (size + 1)
    with pytest.raises(OSError) as info:  # control: the same bytes as one argument cannot be passed
        subprocess.run([sys.executable, "-c", "pass", big], check=False)
    assert info.value.errno == errno.E2BIG
    monkeypatch.setattr(sys, "path", [*sys.path, *many])
    with Executor(scratch_root=tmp_path / "s") as ex:
        ex.start()
        cmdline = Path(f"/proc/{ex.server_pid}/cmdline").read_bytes()
        assert len(cmdline) < 8192
        stage = Usd.Stage.Open(Sdf.Layer.CreateAnonymous(".usda"))
        outcome, _delta = ex.execute(JOB, load_policy("scene-edit"), stage, 30)
        assert outcome.status == "succeeded", outcome


def test_kit_python_is_found_next_to_kits_stdlib_without_fallback(kit_modules: dict[str, Any], tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    ext = kit_modules["ext"]
    stdlib = tmp_path / "kit" / "python" / "lib" / "python3.11"
    stdlib.mkdir(parents=True)
    monkeypatch.setattr(os, "__file__", str(stdlib / "os.py"))
    assert ext.kit_python() is None  # not sys.executable: inside Kit that may be the kit binary
    python = tmp_path / "kit" / "python" / "bin" / "python3"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    assert ext.kit_python() == str(python)


def test_an_unavailable_sandbox_pauses_claims_and_says_why(kit_modules: dict[str, Any], ctl: Any,
                                                          worker_token_file: Path, operator: Any,
                                                          tmp_path: Path) -> None:
    import carb
    import carb.settings
    import omni.kit.app
    import omni.ui
    import omni.usd

    s = carb.settings.get_settings()
    for key, value in {"controller_url": ctl.url, "token_file": str(worker_token_file),
                       "state_dir": str(tmp_path / "state"), "poll_wait_s": 1.0, "labels": ["nosandbox"],
                       "enabled_on_start": True, "python": str(tmp_path / "no" / "python3")}.items():
        s.set(f"/exts/kitgate.executor/{key}", value)
    omni.usd.get_context().standin_open(Usd.Stage.CreateInMemory())
    ext = kit_modules["ext"].KitgateExecutorExtension()
    ext.on_startup("kitgate.executor-0.1.0")
    deadline = time.monotonic() + 30
    while ext._sandbox.state == "starting" and time.monotonic() < deadline:
        omni.kit.app.standin_update()
        time.sleep(0.01)
    for _ in range(30):
        omni.kit.app.standin_update()
        time.sleep(0.01)
    reason = ext._runner.status().paused_reason or ""
    assert reason.startswith("sandbox unavailable: cannot start"), reason
    assert any(lvl == "warn" and "sandbox unavailable" in msg for lvl, msg in carb.LOG)
    texts = " ".join(w.text for w in omni.ui.WINDOWS[-1].widgets if hasattr(w, "text"))
    assert "sandbox unavailable" in texts
    job_id = submit(operator, CUBE_JOB.format(name="Never"), labels=["nosandbox"])
    for _ in range(50):
        omni.kit.app.standin_update()
        time.sleep(0.02)
    assert operator.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"  # not claimed, not failed
    ext.toggle_pause()  # the user cannot resume into a broken sandbox
    assert ext._runner.paused
    ext.on_shutdown()
    with pytest.raises(AssertionError, match="not finished"):  # still queued: nothing claimed it
        wait_job(operator, job_id, timeout=0.5)
