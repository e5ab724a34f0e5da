"""The Kit binding: wires Kit's events to the shared Runner. Imported only inside Kit (see __init__).

Threading (facts §3.4, §11): the Runner's network thread does all HTTP; the update callback (main
thread) calls `Runner.tick()`, which does every stage read/write; isolated jobs' children are awaited
on a helper thread against a frozen export of the layer, and their delta is applied back on the main
thread inside one undo group (a Command using omni.kit.usd_undo.UsdLayerUndo, facts §4.3).
Every subscription is kept on the instance and dropped in on_shutdown (facts §11.9-12).
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import carb
import carb.settings
import omni.ext
import omni.kit.app
import omni.kit.commands
import omni.kit.undo
import omni.usd

from .runner import Runner, RunnerConfig
from .verify import Job

log = logging.getLogger("kitgate.executor")
SETTINGS_ROOT = "/exts/kitgate.executor"
EXT_NAME = "kitgate.executor"


# ----------------------------------------------------------------------------------- undoable edits


def _reserve_paths(delta: Any) -> list[Any]:
    """Prim paths a delta may touch (UsdLayerUndo records their specs before the edit)."""
    from pxr import Sdf

    paths: list[Any] = []
    seen: set[Any] = set()
    for path in [*getattr(delta, "remove", []), *getattr(delta, "copy", []), *getattr(delta, "order", {})]:
        prim = path.GetPrimPath() if path.IsPropertyPath() else path
        if prim not in seen:
            seen.add(prim)
            paths.append(prim)
    meta = getattr(delta, "meta_set", None) or getattr(delta, "meta_clear", None)
    if meta and Sdf.Path.absoluteRootPath not in seen:
        paths.append(Sdf.Path.absoluteRootPath)
    return paths


class ApplyKitgateDeltaCommand(omni.kit.commands.Command):
    """Applies an isolated job's delta to the edit-target layer; undo restores the reserved specs."""

    def __init__(self, delta: Any, stage: Any) -> None:
        # Not "simple types" (facts §4.3): this command is only executed by the binding, never replayed.
        self._delta = delta
        self._stage = stage
        self._undo: Any = None

    def do(self) -> list[str]:
        import omni.kit.usd_undo

        layer = self._stage.GetEditTarget().GetLayer()
        self._undo = omni.kit.usd_undo.UsdLayerUndo(layer)
        for path in _reserve_paths(self._delta):
            self._undo.reserve(path)
        try:
            return list(self._delta.apply_to(self._stage))
        except BaseException:
            self._undo.undo()  # apply_to already restored; this also clears partial reservations' effect
            self._undo = None
            raise

    def undo(self) -> None:
        if self._undo is not None:
            self._undo.undo()


class RunKitgateTrustedJobCommand(omni.kit.commands.Command):
    """Runs a trusted (in-process) job; undo restores the whole edit-target layer as it was."""

    def __init__(self, call: Any, stage: Any) -> None:
        self._call = call
        self._stage = stage
        self._backup: Any = None
        self.result: Any = None

    def do(self) -> Any:
        from pxr import Sdf

        layer = self._stage.GetEditTarget().GetLayer()
        self._backup = Sdf.Layer.CreateAnonymous(".usda")
        self._backup.TransferContent(layer)
        self.result = self._call()
        return self.result

    def undo(self) -> None:
        if self._backup is not None:
            self._stage.GetEditTarget().GetLayer().TransferContent(self._backup)


_COMMANDS = (ApplyKitgateDeltaCommand, RunKitgateTrustedJobCommand)


# ------------------------------------------------------------------------------------------ host


class KitHost:
    """StageHost for Kit: the current omni.usd stage; edits go through undoable commands."""

    def __init__(self) -> None:
        self.last_changed: list[str] = []

    def get_stage(self) -> Any:
        return omni.usd.get_context().get_stage()

    def apply_delta(self, job: Job, delta: Any, stage: Any) -> list[str]:
        with omni.kit.undo.group():
            ok, changed = omni.kit.commands.execute("ApplyKitgateDelta", delta=delta, stage=stage)
        if not ok:
            raise RuntimeError("ApplyKitgateDelta failed; the stage was left unchanged")
        self.last_changed = list(changed or [])
        return self.last_changed

    def run_in_process(self, job: Job, stage: Any, call: Any) -> Any:
        with omni.kit.undo.group():
            ok, result = omni.kit.commands.execute("RunKitgateTrustedJob", call=call, stage=stage)
        if not ok or result is None:
            raise RuntimeError("RunKitgateTrustedJob failed")
        return result

    def job_finished(self, job: Job, result: dict[str, Any]) -> dict[str, Any]:
        return result


# -------------------------------------------------------------------------------------- settings


def kit_python() -> str:
    """Kit's own interpreter for the fork server (sys.executable is the kit binary; facts §5.3)."""
    base = Path(os.__file__).resolve().parent
    for candidate in (
        base.parent.parent / "bin" / "python3",
        base.parent / "python.exe",
        base.parent / "bin" / "python3",
    ):
        if candidate.is_file():
            return str(candidate)
    return sys.executable


def _get(settings: Any, key: str, default: Any) -> Any:
    value = settings.get(f"{SETTINGS_ROOT}/{key}")
    return default if value is None or value == "" else value


def config_from_settings(settings: Any) -> tuple[RunnerConfig | None, dict[str, Any], str | None]:
    """Build the RunnerConfig from carb settings. Returns (config or None, extras, problem)."""
    token_file = str(_get(settings, "token_file", ""))
    extras = {
        "enabled_on_start": bool(_get(settings, "enabled_on_start", False)),
        "frame_budget_ms": float(_get(settings, "frame_budget_ms", 4.0)),
        "show_window": bool(_get(settings, "show_window", True)),
    }
    if not token_file:
        return None, extras, "no token_file configured (/exts/kitgate.executor/token_file)"
    try:
        token = Path(token_file).read_text().strip()
    except OSError as exc:
        return None, extras, f"cannot read token_file: {exc.strerror}"
    if not token:
        return None, extras, "token_file is empty"
    state_default = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "kitgate" / "kit-worker"
    labels = _get(settings, "labels", [])
    opt_path = lambda key: Path(str(_get(settings, key, ""))) if _get(settings, key, "") else None  # noqa: E731
    config = RunnerConfig(
        controller_url=str(_get(settings, "controller_url", "http://127.0.0.1:8750")),
        token=token,
        state_dir=opt_path("state_dir") or state_default,
        worker_id=str(_get(settings, "worker_id", "")) or None,
        labels=[str(x) for x in labels] if isinstance(labels, list | tuple) else [],
        policy_dir=opt_path("policy_dir"),
        jwks_file=opt_path("jwks_file"),
        poll_wait_s=float(_get(settings, "poll_wait_s", 25.0)),
        heartbeat_s=float(_get(settings, "heartbeat_s", 5.0)),
        ca_file=str(_get(settings, "ca_file", "")) or None,
        python=str(_get(settings, "python", "")) or kit_python(),
        offload_isolated=bool(_get(settings, "offload_isolated", True)),
    )
    return config, extras, None


# ------------------------------------------------------------------------------------- extension


class KitgateExecutorExtension(omni.ext.IExt):
    """Kit instantiates this (re-exported by kitgate.executor) and calls on_startup/on_shutdown."""

    def on_startup(self, ext_id: str) -> None:
        self._ext_id = ext_id
        self._runner: Runner | None = None
        self._subs: list[Any] = []
        self._window: Any = None
        self._skip_ticks = 0
        self._last_ui = 0.0
        self._stage_id: Any = None
        self._host = KitHost()
        for cmd in _COMMANDS:
            omni.kit.commands.register(cmd)
        settings = carb.settings.get_settings()
        config, extras, problem = config_from_settings(settings)
        self._budget_s = max(0.0005, extras["frame_budget_ms"] / 1000.0)
        self._subscribe()
        if extras["show_window"]:
            self._window = self._make_window()
        if config is None:
            carb.log_warn(f"[kitgate.executor] not started: {problem}")
            self._problem = problem
            return
        self._problem = None
        try:
            self._runner = Runner(config, self._host)
        except (OSError, ValueError) as exc:
            carb.log_warn(f"[kitgate.executor] not started: {exc}")
            self._problem = str(exc)
            return
        self._follow_stage()
        if not extras["enabled_on_start"]:
            self._runner.pause("paused (enabled_on_start is false)")
        self._runner.start()  # returns at once: the network thread does the waiting
        carb.log_info(f"[kitgate.executor] worker {self._runner.worker_id} -> {config.controller_url}")

    # -- events -------------------------------------------------------------------------------
    def _subscribe(self) -> None:
        app = omni.kit.app.get_app()
        ctx = omni.usd.get_context()
        dispatcher = None
        if hasattr(omni.kit.app, "GLOBAL_EVENT_UPDATE"):
            try:
                import carb.eventdispatcher

                dispatcher = carb.eventdispatcher.get_eventdispatcher()
            except ImportError:
                dispatcher = None
        if dispatcher is not None:
            self._subs.append(
                dispatcher.observe_event(
                    observer_name="kitgate.executor.update",
                    event_name=omni.kit.app.GLOBAL_EVENT_UPDATE,
                    on_event=self._on_update,
                )
            )
        else:
            self._subs.append(
                app.get_update_event_stream().create_subscription_to_pop(
                    self._on_update, name="kitgate.executor.update"
                )
            )
        kinds = (omni.usd.StageEventType.OPENED, omni.usd.StageEventType.CLOSED)
        if dispatcher is not None and hasattr(ctx, "stage_event_name"):
            for kind in kinds:
                self._subs.append(
                    dispatcher.observe_event(
                        observer_name=f"kitgate.executor.stage.{int(kind)}",
                        event_name=ctx.stage_event_name(kind),
                        on_event=lambda _e, k=kind: self._on_stage_event(int(k)),
                    )
                )
        else:
            self._subs.append(
                ctx.get_stage_event_stream().create_subscription_to_pop(
                    lambda e: self._on_stage_event(int(e.type)), name="kitgate.executor.stage"
                )
            )

    def _on_update(self, _event: Any) -> None:
        """Main thread, every frame: at most one piece of stage work, amortised to the frame budget."""
        runner = self._runner
        if runner is None:
            return
        if self._skip_ticks > 0:
            self._skip_ticks -= 1
        else:
            t0 = time.perf_counter()
            try:
                runner.tick(0.0)
            except Exception as exc:  # noqa: BLE001 - never let a job break Kit's update loop
                carb.log_warn(f"[kitgate.executor] tick failed: {exc}")
            spent = time.perf_counter() - t0
            if spent > self._budget_s:
                self._skip_ticks = min(600, math.ceil(spent / self._budget_s) - 1)
        now = time.monotonic()
        if self._window is not None and now - self._last_ui > 0.25:
            self._last_ui = now
            self._window.update(runner.status())

    def _on_stage_event(self, kind: int) -> None:
        if kind in (int(omni.usd.StageEventType.OPENED), int(omni.usd.StageEventType.CLOSED)):
            self._follow_stage()

    def _follow_stage(self) -> None:
        """Main thread. No stage: pause claims. Another stage: keep serving (the current one) and say so."""
        runner = self._runner
        if runner is None:
            return
        ctx = omni.usd.get_context()
        stage = ctx.get_stage()
        if not stage:
            runner.set_stage_name(None)
            if not runner.paused:
                runner.pause("no stage open")
            carb.log_warn("[kitgate.executor] no stage open: claims paused")
            return
        name = stage.GetRootLayer().identifier
        stage_id = ctx.get_stage_id()
        if self._stage_id is not None and stage_id != self._stage_id:
            carb.log_warn(f"[kitgate.executor] stage changed to {name}; jobs now apply to it")
        self._stage_id = stage_id
        runner.set_stage_name(name)
        if runner.status().paused_reason == "no stage open":
            runner.resume()

    # -- UI hooks -----------------------------------------------------------------------------
    def _make_window(self) -> Any:
        try:
            from .ui import StatusWindow
        except ImportError:  # no omni.ui in a service app (optional dependency)
            return None
        return StatusWindow(on_toggle=self.toggle_pause)

    def toggle_pause(self) -> None:
        if self._runner is None:
            return
        if self._runner.paused:
            self._runner.resume()
        else:
            self._runner.pause("paused by the user")

    # -- shutdown -----------------------------------------------------------------------------
    def on_shutdown(self) -> None:
        """Disable / hot reload (not called at app exit: fastShutdown, facts §0.6)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.stop()
        for sub in self._subs:
            # legacy subscriptions: unsubscribe(); Events 2.0 ObserverGuard: reset() (or drop it)
            stop = getattr(sub, "unsubscribe", None) or getattr(sub, "reset", None)
            if callable(stop):
                stop()
        self._subs = []
        if self._window is not None:
            self._window.destroy()
            self._window = None
        unregister = getattr(omni.kit.commands, "unregister", None)
        if callable(unregister):
            for cmd in _COMMANDS:
                unregister(cmd)
