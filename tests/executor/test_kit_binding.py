"""The Kit binding against stand-ins for omni/carb (real usd-core stage, real controller, real sandbox).

The test thread plays Kit's main thread: it pumps update ticks. Every stage access is recorded with its
thread id; the binding must touch the stage only from that thread, and undo must revert a job.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from .conftest import CUBE_JOB, FAIL_JOB, submit, wait_job

ROOT = "/exts/kitgate.executor"


def _configure(ctl: Any, token_file: Path, state_dir: Path, **over: Any) -> None:
    import carb.settings

    s = carb.settings.get_settings()
    values = {
        "controller_url": ctl.url, "token_file": str(token_file), "state_dir": str(state_dir),
        "poll_wait_s": 1.0, "heartbeat_s": 0.5, "labels": ["kit"], "enabled_on_start": True,
        "frame_budget_ms": 4.0, "python": sys.executable, "show_window": True,
    }
    values.update(over)
    for key, value in values.items():
        s.set(f"{ROOT}/{key}", value)


def _pump() -> None:
    import omni.kit.app

    omni.kit.app.standin_update()
    time.sleep(0.005)


def _kitgate_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("kitgate")]


def test_kit_binding_main_thread_undo_and_shutdown(kit_modules: dict[str, Any], ctl: Any, worker_token_file: Path,
                                                   operator: httpx.Client, tmp_path: Path) -> None:
    import carb.eventdispatcher
    import omni.kit.commands
    import omni.kit.undo
    import omni.ui
    import omni.usd
    from pxr import Usd

    _configure(ctl, worker_token_file, tmp_path / "state")
    stage = Usd.Stage.CreateInMemory()
    omni.usd.get_context().standin_open(stage)
    main = threading.get_ident()

    ext = kit_modules["ext"].KitgateExecutorExtension()
    started = time.perf_counter()
    ext.on_startup("kitgate.executor-0.1.0")
    assert time.perf_counter() - started < 5.0  # on_startup returns without waiting on the network
    assert "ApplyKitgateDelta" in omni.kit.commands.standin_registered()
    assert ext._runner.status().paused_reason == "starting the sandbox"  # until the helper thread's check
    assert any(msg.startswith("[kitgate.executor] loaded: cryptography") and "PyJWT" in msg
               and "RestrictedPython" in msg for _, msg in __import__("carb").LOG)

    # 1. an isolated job: child runs off the main thread, delta built and applied on it by one command
    before = stage.GetRootLayer().ExportToString()
    job = wait_job(operator, submit(operator, CUBE_JOB.format(name="KitCube"), labels=["kit"]), pump=_pump)
    assert job["status"] == "succeeded", job
    assert any("sandbox ready" in msg for _, msg in __import__("carb").LOG)
    assert "made KitCube" in job["result"]["stdout"]
    assert stage.GetPrimAtPath("/World/KitCube").IsValid()
    assert any(p.startswith("/World") for p in job["result"]["changed_prims"])
    after = stage.GetRootLayer().ExportToString()
    accesses = list(omni.usd.ACCESS_THREADS)
    assert any(what == "changed" for what, _ in accesses), "the stage was edited"
    assert any(what == "layers" for what, _ in accesses), "Kit's global layer listeners were woken"
    assert {tid for _, tid in accesses} == {main}, f"USD touched off the main thread: {accesses}"
    assert omni.kit.undo.standin_depth() == 1  # one command, no group entry

    # 2. undo reverts exactly what the job did; redo brings back exactly its result; again
    assert omni.kit.undo.undo()
    assert stage.GetRootLayer().ExportToString() == before
    assert omni.kit.undo.redo()
    assert stage.GetRootLayer().ExportToString() == after
    assert omni.kit.undo.undo()
    assert stage.GetRootLayer().ExportToString() == before

    # 2b. a trusted job runs in-process on the main thread; only its success is recorded for undo, and
    # redo puts its result back without running its code again
    runner_ex = ext._runner.execution.executor
    calls = []
    real_execute = runner_ex.execute
    runner_ex.execute = lambda *a, **k: calls.append(1) or real_execute(*a, **k)
    trusted_id = submit(operator, CUBE_JOB.format(name="Trusted"), labels=["kit"], policy="trusted")
    with ctl.admin() as admin:
        r = admin.post(f"/v1/jobs/{trusted_id}/approve")
        assert r.status_code == 200, r.text
    job = wait_job(operator, trusted_id, pump=_pump)
    assert job["status"] == "succeeded", job
    assert stage.GetPrimAtPath("/World/Trusted").IsValid() and calls == [1]
    trusted_after = stage.GetRootLayer().ExportToString()
    assert {tid for _, tid in omni.usd.ACCESS_THREADS} == {main}
    assert omni.kit.undo.undo()
    assert stage.GetRootLayer().ExportToString() == before
    assert omni.kit.undo.redo()
    assert stage.GetRootLayer().ExportToString() == trusted_after and calls == [1], "redo re-ran the job"
    assert omni.kit.undo.undo()
    del runner_ex.execute

    # 3. failing jobs (isolated and trusted) leave the stage alone and add no undo entry, empty or not
    depth = omni.kit.undo.standin_depth()
    job = wait_job(operator, submit(operator, FAIL_JOB.format(name="Nope"), labels=["kit"]), pump=_pump)
    assert job["status"] == "failed" and "boom" in job["result"]["error"]["message"]
    assert stage.GetRootLayer().ExportToString() == before
    bad_id = submit(operator, FAIL_JOB.format(name="NopeTrusted"), labels=["kit"], policy="trusted")
    with ctl.admin() as admin:
        assert admin.post(f"/v1/jobs/{bad_id}/approve").status_code == 200
    job = wait_job(operator, bad_id, pump=_pump)
    assert job["status"] == "failed" and "boom" in job["result"]["error"]["message"]
    assert stage.GetRootLayer().ExportToString() == before
    assert omni.kit.undo.standin_depth() == depth

    # 4. the status window shows results; its button pauses claims
    window = omni.ui.WINDOWS[-1]
    for _ in range(60):
        _pump()
    texts = " ".join(w.text for w in window.widgets if hasattr(w, "text"))
    assert "succeeded" in texts and "failed" in texts
    button = next(w for w in window.widgets if isinstance(w, omni.ui.Button))
    button.standin_click()
    assert ext._runner.paused
    button.standin_click()
    assert not ext._runner.paused

    # 5. no stage: claims pause; another stage: served, and its name is reported
    omni.usd.get_context().standin_open(None)
    assert ext._runner.paused
    stage2 = Usd.Stage.CreateInMemory()
    omni.usd.get_context().standin_open(stage2)
    assert not ext._runner.paused
    assert ext._runner.stage_name == stage2.GetRootLayer().identifier
    assert any("stage changed" in msg for _, msg in __import__("carb").LOG)
    job = wait_job(operator, submit(operator, CUBE_JOB.format(name="Second"), labels=["kit"]), pump=_pump)
    assert job["status"] == "succeeded"
    assert stage2.GetPrimAtPath("/World/Second").IsValid() and not stage.GetPrimAtPath("/World/Second").IsValid()
    assert {tid for _, tid in omni.usd.ACCESS_THREADS} == {main}

    # 6. shutdown: every subscription dropped, window destroyed, no thread or child left
    ext.on_shutdown()
    assert carb.eventdispatcher.get_eventdispatcher().standin_count() == 0
    assert window.destroyed
    assert "ApplyKitgateDelta" not in omni.kit.commands.standin_registered()
    assert _kitgate_threads() == []
    assert not any(lvl == "error" for lvl, _ in __import__("carb").LOG)  # error logs fail omni.kit.test runs


def test_kit_binding_legacy_update_stream_and_missing_token(kit_modules: dict[str, Any], tmp_path: Path,
                                                            monkeypatch: Any) -> None:
    import carb
    import omni.kit.app
    import omni.usd
    from pxr import Usd

    monkeypatch.delattr(omni.kit.app, "GLOBAL_EVENT_UPDATE")  # Kit < 107: legacy streams only
    omni.usd.get_context().standin_open(Usd.Stage.CreateInMemory())
    ext = kit_modules["ext"].KitgateExecutorExtension()
    ext.on_startup("kitgate.executor-0.1.0")  # no token_file configured
    assert ext._runner is None
    assert any("token_file" in msg for lvl, msg in carb.LOG if lvl == "warn")
    assert len(omni.kit.app.get_app().get_update_event_stream()._subs) == 1
    omni.kit.app.standin_update()
    ext.on_shutdown()
    assert omni.kit.app.get_app().get_update_event_stream()._subs == []
    assert omni.usd.get_context().get_stage_event_stream()._subs == []


def test_package_init_exposes_the_iext_only_inside_kit(tmp_path: Path) -> None:
    import subprocess

    from .conftest import STANDIN

    ext_folder = Path(__file__).resolve().parents[2] / "extension" / "kitgate.executor"  # as Kit puts it on sys.path
    probe = (f"import sys; sys.path.insert(0, {str(ext_folder)!r}); "
             "import kitgate.executor as m; print(hasattr(m, 'KitgateExecutorExtension'))")
    plain = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert plain.stdout.strip() == "False", plain.stderr
    kit = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(STANDIN)!r}); {probe}"],
                         capture_output=True, text=True, timeout=60)
    assert kit.stdout.strip() == "True", kit.stderr
