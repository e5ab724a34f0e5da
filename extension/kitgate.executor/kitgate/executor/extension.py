"""The Kit binding: wires Kit's events to the shared Runner. Imported only inside Kit (see __init__).

Threading: the Runner's network thread does all HTTP; the update callback (main
thread) calls `Runner.tick()`, which does every stage read/write. Isolated jobs' children are awaited
on a helper thread against a frozen export of the layer (`snapshot.py`); the child's delta comes back
as a `PendingDelta`, i.e. as checked data and NOT as an Sdf layer, because building any Sdf layer (even
an anonymous one no stage uses) sends `Sdf.Notice.LayersDidChange` synchronously on the building thread
to every global listener in the process, and Kit's listeners must only run on the main thread. So the
delta layer is built on the main thread, right before it is applied, inside the same `tick()`; the
extension's frame budget amortises both (`_on_update` skips frames in proportion to what a tick cost).
The fork server itself is started and health-checked on a helper thread in on_startup (it touches no
Kit object); until it answers, claims stay paused and the window says why.

Undo: an isolated job's delta is applied by ApplyKitgateDeltaCommand, whose do() backs up
exactly the specs, child/property orders and layer metadata the delta touches (`DeltaUndo`), and whose
undo()/redo restore the saved "before"/"after" states inside one Sdf.ChangeBlock, byte for byte. Kit's
redo calls do() again on the same command object; do() then re-applies the saved state and never runs
anything of the job. omni.kit.usd_undo's UsdLayerUndo is not used: its published reserve() raises when a
parent is reserved after a child and recurses without end on "/", which basic jobs hit. A trusted job
runs on the main thread *before* any command, and only a job that succeeded is recorded by
RecordKitgateTrustedJobCommand (before/after copies of the layer), so redo never re-runs its code and a
failed job leaves no undo step. No command is wrapped in an undo group: Kit's begin_group() always
pushes an entry, which a failed job would leave behind empty.
Every subscription is kept on the instance and dropped in on_shutdown.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import logging
import math
import os
import threading
import time
from pathlib import Path
from typing import Any

import carb
import carb.settings
import omni.ext
import omni.kit.app
import omni.kit.commands
import omni.usd

from kitgate.protocol.tokens import TokenError, read_token_file
from kitgate.worker.runner import Runner, RunnerConfig
from kitgate.worker.verify import Job

log = logging.getLogger("kitgate.executor")
SETTINGS_ROOT = "/exts/kitgate.executor"
EXT_NAME = "kitgate.executor"
STARTING = "starting the sandbox"


# ----------------------------------------------------------------------------------- undoable edits


class ApplyKitgateDeltaCommand(omni.kit.commands.Command):
    """Applies an isolated job's (built) delta to the edit-target layer; undo/redo swap saved states.

    States: "new" -> do() applies and records before/after -> "applied"; undo() -> "undone"; Kit's
    redo calls do() again -> the saved "after" state is put back -> "applied". If the first do() fails,
    Delta.apply_to has already restored the layer; Kit then calls undo() (nothing to do) and may keep
    the command for redo, whose do() does nothing ("failed").
    """

    def __init__(self, delta: Any, stage: Any, report: dict[str, Any] | None = None) -> None:
        # Not "simple types": this command is only executed by the binding, never replayed.
        self._delta = delta
        self._stage = stage
        self._report = report if report is not None else {}
        self._layer: Any = None
        self._undo: Any = None
        self._changed: list[str] = []
        self._state = "new"

    def do(self) -> list[str]:
        if self._state == "undone":  # Kit's redo: the same object, do() again
            self._undo.reapply(self._layer)
            self._state = "applied"
            return list(self._changed)
        if self._state != "new":
            return []
        from kitgate.sandbox.delta import DeltaUndo

        self._layer = self._stage.GetEditTarget().GetLayer()
        self._undo = DeltaUndo.take(self._delta, self._layer)
        try:
            self._changed = list(self._delta.apply_to(self._layer))  # restores the layer itself on failure
        except Exception as exc:
            self._state = "failed"
            self._report["error"] = f"{type(exc).__name__}: {exc}"
            raise
        self._undo.capture_after(self._layer)
        self._state = "applied"
        return list(self._changed)

    def undo(self) -> None:
        if self._state == "applied":
            self._undo.restore(self._layer)
            self._state = "undone"


class RecordKitgateTrustedJobCommand(omni.kit.commands.Command):
    """Records a trusted job that already ran (and succeeded): undo puts the layer's "before" copy
    back, redo its "after" copy. The job's code is never called from here."""

    def __init__(self, layer: Any, before: Any, after: Any) -> None:
        self._layer = layer
        self._before = before
        self._after = after
        self._recorded = False

    def do(self) -> None:
        if self._recorded:  # Kit's redo
            self._layer.TransferContent(self._after)
        self._recorded = True

    def undo(self) -> None:
        self._layer.TransferContent(self._before)


_COMMANDS = (ApplyKitgateDeltaCommand, RecordKitgateTrustedJobCommand)


def _layer_copy(layer: Any) -> Any:
    from pxr import Sdf

    copy = Sdf.Layer.CreateAnonymous(".usda")
    copy.TransferContent(layer)
    return copy


# ------------------------------------------------------------------------------------------ host


class KitHost:
    """StageHost for Kit: the current omni.usd stage; edits go through undoable commands."""

    def __init__(self) -> None:
        self.last_changed: list[str] = []

    def get_stage(self) -> Any:
        return omni.usd.get_context().get_stage()

    def apply_delta(self, job: Job, delta: Any, stage: Any) -> list[str]:
        """Main thread. Build the delta layer here (see module docstring), then one command, no group."""
        build = getattr(delta, "build", None)
        built = build() if callable(build) else delta  # DeltaError: reported as not applied, no undo step
        report: dict[str, Any] = {}
        ok, changed = omni.kit.commands.execute("ApplyKitgateDelta", delta=built, stage=stage, report=report)
        if not ok:
            raise RuntimeError(f"the delta could not be applied ({report.get('error', 'see the Kit log')}); "
                               "the stage was left unchanged")
        self.last_changed = list(changed or [])
        return self.last_changed

    def run_in_process(self, job: Job, stage: Any, call: Any) -> Any:
        """Main thread. Run the trusted job, then record it for undo only if it succeeded."""
        layer = stage.GetEditTarget().GetLayer()
        before = _layer_copy(layer)
        outcome, delta = call()  # the in-process executor restores the layer itself when the job fails
        if getattr(outcome, "status", None) == "succeeded":
            ok, _ = omni.kit.commands.execute("RecordKitgateTrustedJob", layer=layer, before=before,
                                              after=_layer_copy(layer))
            if not ok:
                carb.log_warn("[kitgate.executor] the trusted job ran but could not be recorded for undo")
        return outcome, delta

    def job_finished(self, job: Job, result: dict[str, Any]) -> dict[str, Any]:
        return result

    def render(self, job: Job, stage: Any, ask: dict[str, Any], caps: Any) -> Any:
        """Main thread. A job's picture is Kit's own viewport capture (capture.py); it completes on a later
        frame, so this returns a pending capture that the runner polls each tick."""
        from .capture import take

        return take(stage, ask, caps)


# ----------------------------------------------------------------------------------------- sandbox


class SandboxStarter:
    """Starts the fork server on a helper thread and health-checks it (its "ready" answer means Kit's
    python3 imported pxr and the sandbox with exactly the derived environment and warmed the runtime).

    The main thread reads `state`/`problem`/`executor` each frame; nothing here touches Kit objects.
    """

    def __init__(self, python: str | None, scratch_root: Path | None = None) -> None:
        self.python = python
        self.scratch_root = scratch_root
        self.state = "starting"  # -> "ready" | "unavailable"
        self.problem: str | None = None
        self.executor: Any = None
        self.server_env: dict[str, str] = {}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kitgate-sandbox-start", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            from kitgate.sandbox.executor import Executor, usd_loader_env

            if not self.python:
                raise RuntimeError("Kit's python3 was not found next to Kit's standard library "
                                   f"({Path(os.__file__).parent}); set /exts/kitgate.executor/python")
            executor = Executor(python=self.python, scratch_root=self.scratch_root, server_env=usd_loader_env(),
                                defer_delta=True)
            try:
                executor.start()
            except Exception:
                executor.close()
                raise
            with self._lock:
                if self._closed:  # on_shutdown ran while the server was starting
                    executor.close()
                    return
                self.server_env = dict(executor.server_env)
                self.executor = executor
                self.state = "ready"
        except Exception as exc:  # noqa: BLE001 - any failure: the sandbox is unavailable, Kit runs on
            self.problem = f"sandbox unavailable: {str(exc).strip() or type(exc).__name__}"[:2000]
            self.state = "unavailable"

    def factory(self) -> Any:
        """Runner's executor_factory: the started executor, or the reason there is none."""
        if self.executor is None:
            from kitgate.sandbox.executor import SandboxUnavailable

            raise SandboxUnavailable(self.problem or STARTING)
        return self.executor

    def close(self) -> None:
        with self._lock:
            self._closed = True
            ex, self.executor = self.executor, None
        if ex is not None:
            ex.close()


_BUNDLED = (("cryptography", "cryptography"), ("jwt", "PyJWT"), ("RestrictedPython", "RestrictedPython"))


def loaded_packages() -> list[tuple[str, str, str]]:
    """(distribution, version, file) of the copies of our bundled packages this process actually
    imports: a Kit app may put its own copies ahead of our pip_prebundle on sys.path."""
    out = []
    for module_name, dist in _BUNDLED:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            out.append((dist, "missing", str(exc)))
            continue
        origin = str(getattr(module, "__file__", "") or "")
        version = str(getattr(module, "__version__", "") or "")
        if not version and origin:
            site = str(Path(origin).resolve().parent.parent)
            version = next((d.version for d in md.distributions(path=[site])
                            if (d.metadata["Name"] or "").lower() == dist.lower()), "unknown")
        out.append((dist, version or "unknown", origin))
    return out


# -------------------------------------------------------------------------------------- settings


def kit_python() -> str | None:
    """Kit's own python3 for the fork server, found from Kit's standard library (as Isaac
    Sim's Jupyter extension does): <prefix>/lib/python3.X/os.py -> <prefix>/bin/python3. None if absent:
    there is no fallback to sys.executable, which inside Kit may be the kit binary itself. Linux only
    (extension.toml declares the platform)."""
    base = Path(os.__file__).resolve().parent
    for candidate in (base.parent.parent / "bin" / "python3", base.parent.parent / "bin" / "python"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


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
        token = read_token_file(token_file)  # the same rules as the CLI and the SDK (kitgate.protocol.tokens)
    except TokenError as exc:
        return None, extras, str(exc)
    from kitgate.worker.config import WorkerEnvironment

    env = WorkerEnvironment.read()  # Kit's process environment, read once here; carb settings win over it
    state_default = env.state_home / "kitgate" / "kit-worker"
    labels = _get(settings, "labels", [])
    opt_path = lambda key: Path(str(_get(settings, key, ""))) if _get(settings, key, "") else None  # noqa: E731
    config = RunnerConfig(
        controller_url=str(_get(settings, "controller_url", "http://127.0.0.1:8750")),
        token=token,
        state_dir=opt_path("state_dir") or state_default,
        worker_id=str(_get(settings, "worker_id", "")) or None,
        labels=[str(x) for x in labels] if isinstance(labels, list | tuple) else [],
        policy_dir=opt_path("policy_dir"),
        asset_root=opt_path("asset_root") or env.asset_root,  # KITGATE_ASSET_ROOT still works inside Kit
        jwks_file=opt_path("jwks_file"),
        poll_wait_s=float(_get(settings, "poll_wait_s", 25.0)),
        heartbeat_s=float(_get(settings, "heartbeat_s", 5.0)),
        ca_file=str(_get(settings, "ca_file", "")) or None,
        python=str(_get(settings, "python", "")) or kit_python(),  # None: the sandbox says why it is unavailable
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
        self._has_stage = False
        self._user_pause: str | None = None
        self._sandbox: SandboxStarter | None = None
        self._sandbox_seen = "starting"
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
        self._log_packages()
        self._sandbox = SandboxStarter(config.python)
        try:
            self._runner = Runner(config, self._host, executor_factory=self._sandbox.factory)
        except (OSError, ValueError) as exc:
            carb.log_warn(f"[kitgate.executor] not started: {exc}")
            self._problem = str(exc)
            self._sandbox = None
            return
        if not extras["enabled_on_start"]:
            self._user_pause = "paused (enabled_on_start is false)"
        self._runner.pause(STARTING)  # claims wait for a healthy sandbox (see _gate)
        self._follow_stage()
        self._sandbox.start()  # helper thread: starts and health-checks the fork server
        self._runner.start()  # returns at once: the network thread does the waiting
        carb.log_info(f"[kitgate.executor] worker {self._runner.worker_id} -> {config.controller_url}")

    def _log_packages(self) -> None:
        bundle = Path(__file__).resolve().parents[2] / "pip_prebundle"
        parts = []
        for dist, version, origin in loaded_packages():
            parts.append(f"{dist} {version} from {origin}")
            if bundle.is_dir() and not origin.startswith(str(bundle)):
                carb.log_warn(f"[kitgate.executor] {dist} {version} is loaded from {origin}, not from the "
                              f"extension's bundle {bundle}: another extension put its copy first on sys.path")
        carb.log_info("[kitgate.executor] loaded: " + "; ".join(parts))

    # -- claim gate (main thread) -----------------------------------------------------------------
    def _wanted_pause(self) -> str | None:
        """Why claims must be paused now, most important reason first; None: claim."""
        sandbox = self._sandbox
        if sandbox is not None and sandbox.state != "ready":
            return sandbox.problem or STARTING
        if not self._has_stage:
            return "no stage open"
        return self._user_pause

    def _gate(self) -> None:
        runner = self._runner
        if runner is None:
            return
        want = self._wanted_pause()
        if want is None:
            if runner.paused:
                runner.resume()
        elif runner.status().paused_reason != want:
            runner.pause(want)

    def _watch_sandbox(self) -> None:
        """Main thread, every frame: report the starter's outcome once and re-gate claims."""
        sandbox = self._sandbox
        if sandbox is None or sandbox.state == self._sandbox_seen:
            return
        self._sandbox_seen = sandbox.state
        if sandbox.state == "ready":
            env = ", ".join(f"{k}={v}" for k, v in sorted(sandbox.server_env.items()))
            carb.log_info(f"[kitgate.executor] sandbox ready: {sandbox.python} ({env})")
        else:
            carb.log_warn(f"[kitgate.executor] {sandbox.problem}")
        self._gate()

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
        self._watch_sandbox()
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
        self._has_stage = bool(stage)
        if not stage:
            runner.set_stage_name(None)
            carb.log_warn("[kitgate.executor] no stage open: claims paused")
        else:
            name = stage.GetRootLayer().identifier
            stage_id = ctx.get_stage_id()
            if self._stage_id is not None and stage_id != self._stage_id:
                carb.log_warn(f"[kitgate.executor] stage changed to {name}; jobs now apply to it")
            self._stage_id = stage_id
            runner.set_stage_name(name)
        self._gate()

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
        self._user_pause = None if self._user_pause else "paused by the user"
        blocked = self._wanted_pause()
        if self._user_pause is None and blocked is not None:
            carb.log_warn(f"[kitgate.executor] claims stay paused: {blocked}")
        self._gate()

    # -- shutdown -----------------------------------------------------------------------------
    def on_shutdown(self) -> None:
        """Disable / hot reload (not called at app exit: fastShutdown)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.stop()  # closes the executor it got from the starter
        sandbox, self._sandbox = self._sandbox, None
        if sandbox is not None:
            sandbox.close()  # a server that was started but never used
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
