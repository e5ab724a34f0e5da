"""Executor: compile + execute + apply, atomically, in the mode the policy names.

- isolated (readonly, scene-edit): the job runs in a disposable child of a warm fork server
  (`process/`: the server, its child, the parent's handle on the server and the snapshot cache); only
  data comes back; the parent validates the spec-level delta (`delta.py`) and applies it in one
  `Sdf.ChangeBlock`. Under a read-only policy no delta is requested.
- in_process (trusted): guarded execution on the real stage; the edit target and session layer are
  backed up first and restored on any failure. It cannot stop a single long C call (SECURITY.md).

Threading: an Executor serialises its callers with a lock (one job at a time) and never starts a
thread; `execute()` returns the delta so a host (Kit) can apply it on its own thread inside an undo
group. `close()` stops the fork server; no child process survives it.

Why thin: compiling is `compile/`, running a script under guards is `runtime/`, processes are
`process/`, turning a child's report into an outcome is `outcome.py`. This module only puts them in
order, holds the one lock, and applies the delta.
"""

from __future__ import annotations

import base64
import contextlib
import marshal
import math
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import CodeType, SimpleNamespace
from typing import Any

from kitgate.protocol.status import REPORTABLE_STATUSES
from kitgate.sandbox.delta import MAX_DELTA_BYTES, Delta, DeltaError, DeltaRejected, DeltaTooLarge
from kitgate.sandbox.live import ThrottledText
from kitgate.sandbox.outcome import error_dict, make_outcome, map_result, replace, report_fields, set_timing
from kitgate.sandbox.process.forkserver import CODE_MAGIC, PRELOADABLE
from kitgate.sandbox.process.handle import (  # noqa: F401 - USD_LOADER_ENV_KEYS, usd_loader_env: documented here
    RESULT_OVERHEAD,
    SERVER_GRACE_S,
    USD_LOADER_ENV_KEYS,
    ForkServerProcess,
    SandboxUnavailable,
    ServerLost,
    server_environment,
    usd_loader_env,
)
from kitgate.sandbox.process.procstat import run_delay_ms
from kitgate.sandbox.process.snapshots import (  # noqa: F401 - SNAPSHOT_REUSE_MIN_BYTES: kept importable here
    SNAPSHOT_REUSE_MIN_BYTES,
    HostDelta,
    PendingDelta,
    SnapshotCache,
)

STATUSES = REPORTABLE_STATUSES  # kitgate.protocol.status: what a job may end as
_SERVER_TIMINGS = ("prepare", "fork", "dispatch", "child", "cpu", "wait", "spare_fork")


class Executor:
    """Runs jobs under their policy's execution mode. Not for concurrent callers: a lock serialises.

    `python`: the interpreter for the fork server (Kit passes the python3 it ships).
    `env_passthrough`: environment names copied into the fork server (e.g. PXR_PLUGINPATH_NAME, read
    when pxr is imported there); job children only ever see PATH/LANG/LC_ALL and their scratch HOME.
    `server_env`: values the host derived for the server's USD (`usd_loader_env()`); only the names in
    USD_LOADER_ENV_KEYS are accepted. `defer_delta`: return a `PendingDelta` whose Sdf layer is built
    by `build()` on the caller's chosen thread (Kit: the main thread, see `PendingDelta`).
    """

    def __init__(
        self,
        python: str | None = None,
        scratch_root: Path | None = None,
        env_passthrough: tuple[str, ...] | list[str] = (),
        server_env: dict[str, str] | None = None,
        defer_delta: bool = False,
    ) -> None:
        self.python = python or sys.executable
        self._defer_delta = defer_delta
        self._own_scratch = scratch_root is None
        root = Path(scratch_root) if scratch_root else Path(tempfile.mkdtemp(prefix="kitgate-sandbox-"))
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.scratch_root = root
        env = server_environment(env_passthrough, server_env)
        self.server_env = dict(env)  # exactly what the fork server process gets
        self._server = ForkServerProcess(self.python, root, env)
        self._lock = threading.Lock()
        self._closed = False
        self._snapshots = SnapshotCache()
        self._server_policies: set[str] = set()  # digests the current server process holds
        self._policies_starts = 0
        self._payloads: dict[tuple[str, str], tuple[dict[str, Any] | None, list[str]]] = {}  # see _payload

    # -------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the fork server. If a job is running on another thread, its server is killed first
        (the job then fails with SandboxError) instead of waiting up to the job's timeout."""
        if not self._lock.acquire(timeout=0.05):
            self._closed = True
            self._server.kill()
            self._lock.acquire()
        try:
            self._closed = True
            self._server.stop(graceful=True)
            self._snapshots.close()
            if self._own_scratch:
                import shutil

                shutil.rmtree(self.scratch_root, ignore_errors=True)
        finally:
            self._lock.release()

    def start(self) -> None:
        """Start the fork server now instead of on the first isolated job (hosts warm up at load)."""
        with self._lock:
            if not self._server.alive:
                self._server.stop()
                self._server.start()

    @property
    def server_pid(self) -> int | None:
        return self._server.proc.pid if self._server.alive and self._server.proc else None

    @property
    def current_child_pid(self) -> int | None:
        """The process running the current isolated job, once the server handed it over (else None)."""
        return self._server.child_pid

    @property
    def last_child_pid(self) -> int | None:
        """The process that ran the last isolated job (killed after it; never given another job)."""
        return self._server.last_child_pid

    # -------------------------------------------------------------------------------------- jobs

    def run(self, source: str | bytes, policy: Any, stage: Any, timeout_s: float | None = None) -> Any:
        """Compile (cached), execute, and apply the delta atomically. Never raises for a job's failure."""
        outcome, delta = self.execute(source, policy, stage, timeout_s)
        if delta is None:
            return outcome
        started = time.perf_counter()
        try:
            delta.apply_to(stage)
        except DeltaRejected as exc:  # a host-side budget (composition cost): nothing was composed
            return replace(outcome, status="failed", value=None, changed_prims=[], changed_prims_total=0,
                            error=error_dict("DeltaRejected", str(exc)))
        except Exception as exc:
            return replace(outcome, status="failed", value=None, changed_prims=[], changed_prims_total=0,
                            error=error_dict("ApplyError", f"the scene delta could not be applied: {exc}"))
        finally:
            set_timing(outcome, "apply_ms", (time.perf_counter() - started) * 1000)
        self.note_applied(delta)
        return outcome

    def note_applied(self, delta: Any) -> None:
        """The host applied `delta` (returned by this executor's last `execute`) to the stage it ran on.

        The next job on the same layer then carries the delta to the fork server, which brings its scene
        copy (and its pre-forked spare child) along instead of re-parsing the scene; for a large layer
        whose change count says it changed by this delta alone, it is not even exported again.
        Optional: without it the next job rebuilds the copy. Call it on the thread that applied the
        delta, right after `apply_to` returned.
        """
        with self._lock:
            self._snapshots.note_applied(delta, self._server.starts)

    supports_live = True  # execute() takes on_started/on_output (the worker checks before passing them)

    def execute(
        self, source: str | bytes, policy: Any, stage: Any, timeout_s: float | None = None, *,
        on_started: Callable[[], None] | None = None, on_output: Callable[[str], None] | None = None,
    ) -> tuple[Any, Delta | None]:
        """Run the job; isolated mode touches nothing and returns the delta for the host to apply.

        In-process mode (trusted) edits the stage directly (atomically) and returns no delta.
        `on_started()` is called once the job's code begins to run, `on_output(text)` with printed text
        (throttled, within the policy's output cap) while it runs; both on this thread, both must not block.
        """
        from kitgate.sandbox.compile.compiler import compile_source

        with self._lock:
            if self._closed:
                raise SandboxUnavailable("executor is closed")
            t0 = time.perf_counter()
            compiled = compile_source(source, policy)
            compile_ms = (time.perf_counter() - t0) * 1000
            if not compiled.ok:
                outcome = make_outcome(status="rejected", violations=[v.to_dict() for v in compiled.violations],
                                   error=error_dict("PolicyViolation", "the script violates the policy"),
                                   timings={"compile_ms": compile_ms})
                return outcome, None
            timeout = _effective_timeout(policy, timeout_s)
            if getattr(policy, "mode", "isolated") == "in_process":
                outcome = self._in_process(compiled, policy, stage, timeout, on_started, on_output)
                delta = None
            else:
                outcome, delta = self._isolated(compiled, source, policy, stage, timeout,
                                                _live_events(on_started, on_output))
            set_timing(outcome, "compile_ms", compile_ms)
            return outcome, delta

    # --------------------------------------------------------------------------------- isolated

    def _isolated(self, compiled: Any, source: str | bytes, policy: Any, stage: Any,
                  timeout: float, on_event: Callable[[dict[str, Any]], None] | None = None,
                  ) -> tuple[Any, Delta | None]:
        cpu0, wait0 = time.thread_time(), run_delay_ms()
        limits = policy.limits
        layer = stage.GetEditTarget().GetLayer()
        text = source.decode("utf-8") if isinstance(source, bytes) else source
        want_delta = not _is_readonly(policy)
        result_cap = int(limits.result_bytes) + 6 * int(limits.output_bytes) + RESULT_OVERHEAD
        if want_delta:
            result_cap += MAX_DELTA_BYTES
        if self._policies_starts != self._server.starts:
            self._server_policies.clear()
        plan = self._snapshots.plan(layer, self._server.starts)
        payload, preload = self._payload(compiled)
        request: dict[str, Any] = {
            "op": "run",
            "source": text,
            "code": payload,
            "preload": preload,
            "policy": {"name": policy.name, "digest": policy.digest, "asset_roots": list(policy.asset_roots)},
            "timeout_s": timeout,
            "cpu_s": max(1, math.ceil(float(limits.cpu_s))),
            "memory_mb": int(limits.memory_mb),
            "result_cap": result_cap,
            "rng_seed": None,
            "want_delta": want_delta,
            "live": on_event is not None,
        }
        sync = self._snapshots.take_sync(layer)
        if sync is not None:
            request["sync"] = sync  # the host applied it to this layer after the previous job
        full_policy = policy.digest not in self._server_policies
        started = time.perf_counter()
        header: dict[str, Any] | None = None
        raw = b""
        lost = 0
        for _attempt in range(6):
            if full_policy:
                request["policy"]["source"] = policy.source
            request["snapshot"] = self._snapshots.snapshot(layer, plan)
            try:
                header, raw = self._server.call(request, timeout + max(1.0, 0.1 * timeout) + SERVER_GRACE_S,
                                                result_cap, on_event)
            except SandboxUnavailable as exc:
                return make_outcome(status="failed", error=error_dict("SandboxUnavailable", str(exc))), None
            except ServerLost as exc:
                # A job only edits a copy, so re-running one the server lost before it ran is safe.
                lost += 1
                if exc.started or lost == 2 or self._closed:
                    return make_outcome(status="timed_out" if exc.timed_out else "failed",
                                    limit="timeout" if exc.timed_out else None,
                                    error=error_dict("SandboxError", f"fork server lost: {exc}")), None
                self._server_policies.clear()
                full_policy = True
                plan.export_instead()
                request.pop("sync", None)
                continue
            need = header.get("need")
            if need == "policy" and not full_policy:
                full_policy = True
                continue
            if need == "snapshot" and plan.reuse:
                plan.export_instead()
                request.pop("sync", None)
                continue
            break
        run_ms = (time.perf_counter() - started) * 1000
        assert header is not None
        self._policies_starts = self._server.starts
        if header.get("ok"):
            self._server_policies.add(policy.digest)
        outcome, wire_delta = map_result(header, raw, policy)
        set_timing(outcome, "run_ms", run_ms)
        set_timing(outcome, "snapshot_ms", plan.snapshot_ms)
        base = self._snapshots.record(plan, header.get("snapshot_key"), self._server.starts, layer)
        set_timing(outcome, "snapshot_reused", 1.0 if plan.reuse else 0.0)
        if header.get("snapshot") in ("hit", "synced", "rebuilt"):
            set_timing(outcome, f"snapshot_{header['snapshot']}", 1.0)
        if header.get("child") in ("spare", "fresh"):
            set_timing(outcome, "server_spare", 1.0 if header["child"] == "spare" else 0.0)
        server_ms = header.get("server_ms")
        if isinstance(server_ms, dict):
            for name in _SERVER_TIMINGS:
                if isinstance(server_ms.get(name), (int, float)):
                    set_timing(outcome, f"server_{name}_ms", server_ms[name])
        if wire_delta is None or outcome.status != "succeeded":
            _set_parent_timings(outcome, cpu0, wait0)
            return outcome, None
        if self._defer_delta:
            pending = PendingDelta(wire_delta, _asset_checker(policy, layer), plan.watch, base)
            _set_parent_timings(outcome, cpu0, wait0)
            return replace(outcome, changed_prims=pending.changed_prims,
                            changed_prims_total=pending.changed_prims_total), pending
        try:
            delta = HostDelta.from_wire(wire_delta, asset_allowed=_asset_checker(policy, layer))
        except DeltaTooLarge as exc:
            return replace(outcome, status="failed", value=None, limit="result",
                            error=error_dict("DeltaTooLarge", str(exc))), None
        except DeltaError as exc:
            return replace(outcome, status="failed", value=None,
                            error=error_dict("DeltaRejected", str(exc))), None
        delta._kg_watch = plan.watch
        delta._kg_base = base
        _set_parent_timings(outcome, cpu0, wait0)
        return replace(outcome, changed_prims=delta.changed_prims,
                        changed_prims_total=delta.changed_prims_total), delta

    def _payload(self, compiled: Any) -> tuple[dict[str, Any] | None, list[str]]:
        """The request's `code` and `preload` for a compiled job, built once per (source, policy): the
        marshalled code object and what the server must have loaded for it (PRELOADABLE modules the code
        names). Bounded; a miss only costs the marshal again."""
        key = (str(compiled.code_sha256), str(compiled.policy_digest))
        hit = self._payloads.get(key)
        if hit is None:
            if len(self._payloads) >= 256:
                self._payloads.clear()
            code = getattr(compiled, "code", None)
            hit = self._payloads[key] = (_code_payload(compiled), _preloads(code) if code is not None else [])
        return hit

    # ------------------------------------------------------------------------------- in-process

    def _in_process(self, compiled: Any, policy: Any, stage: Any, timeout: float,
                    on_started: Callable[[], None] | None = None,
                    on_output: Callable[[str], None] | None = None) -> Any:
        from pxr import Sdf

        from kitgate.sandbox.delta import ChangeRecorder, changed_prim_paths
        from kitgate.sandbox.runtime.hooks import run_guarded

        layers = [stage.GetEditTarget().GetLayer(), stage.GetSessionLayer()]
        backups = []
        for layer in layers:
            if layer is not None:
                copy = Sdf.Layer.CreateAnonymous(".usda")
                copy.TransferContent(layer)
                backups.append((layer, copy))
        recorder = ChangeRecorder(stage, layers[0])
        started = time.perf_counter()
        ok = False
        live = ThrottledText(on_output) if on_output is not None else None
        if on_started is not None:
            with contextlib.suppress(Exception):  # a watcher's failure never costs the job
                on_started()
        try:
            report = run_guarded(compiled, policy, stage, deadline=time.monotonic() + timeout, live=live)
            ok = report.status == "succeeded"
        finally:
            recorder.stop()
            if not ok:
                with Sdf.ChangeBlock():
                    for layer, copy in backups:
                        layer.TransferContent(copy)
        run_ms = (time.perf_counter() - started) * 1000
        fields = report_fields(report, policy)
        changed, total = changed_prim_paths(recorder) if ok else ([], 0)
        return make_outcome(**fields, changed_prims=changed, changed_prims_total=total, timings={"run_ms": run_ms})


# ------------------------------------------------------------------------------------ mapping


# ------------------------------------------------------------------------------------ helpers


def _live_events(on_started: Callable[[], None] | None,
                 on_output: Callable[[str], None] | None) -> Callable[[dict[str, Any]], None] | None:
    """The fork server's "started"/"live" frames as the caller's callbacks (None: the job is not watched)."""
    if on_started is None and on_output is None:
        return None

    def on_event(frame: dict[str, Any]) -> None:
        if "started" in frame:
            if on_started is not None:
                on_started()
        elif on_output is not None and isinstance(frame.get("live"), str):
            on_output(frame["live"])

    return on_event


def _set_parent_timings(outcome: Any, cpu0: float, wait0: float) -> None:
    """The host thread's CPU and run-queue wait in `_isolated` since (cpu0, wait0)."""
    set_timing(outcome, "parent_cpu_ms", (time.thread_time() - cpu0) * 1000)
    set_timing(outcome, "parent_wait_ms", run_delay_ms() - wait0)


def _code_payload(compiled: Any) -> dict[str, Any] | None:
    """The compiled code object for the server (the same Python only; it compiles again otherwise)."""
    code = getattr(compiled, "code", None)
    if code is None:
        return None
    return {"magic": CODE_MAGIC, "sha256": compiled.code_sha256,
            "data": base64.b64encode(marshal.dumps(code)).decode("ascii")}


def _preloads(code: CodeType) -> list[str]:
    """The PRELOADABLE modules a compiled job may import: the restricted compiler turns every import into
    a call with the module name as a constant, so a name among the constants of the code (or of any code
    nested in it) is enough. A miss is still correct: the child then imports the module itself."""
    found: set[str] = set()
    stack = [code]
    while stack:
        for const in stack.pop().co_consts:
            if isinstance(const, CodeType):
                stack.append(const)
            elif isinstance(const, str):
                top = const.partition(".")[0]
                if top in PRELOADABLE:
                    found.add(top)
    return sorted(found)


def _effective_timeout(policy: Any, timeout_s: float | None) -> float:
    limit = float(policy.limits.timeout_s)
    if timeout_s is not None and timeout_s > 0:
        limit = min(limit, float(timeout_s))
    return limit


def _is_readonly(policy: Any) -> bool:
    """A policy that declares `read_only = true` never gets a delta. Other policies without edit methods
    cannot edit anyway: that is the object layer's allow-list."""
    return bool(getattr(policy, "read_only", False))


def _asset_checker(policy: Any, target_layer: Any) -> Any:
    """Asset paths in a child's delta must pass the same check the runtime applies, anchored at the
    layer the delta lands in (the child is untrusted: a compromised child could otherwise make the host
    compose or load any file)."""
    from kitgate.sandbox.runtime.assets import AssetDenied, check_asset_path, check_asset_value

    roots = tuple(policy.asset_roots)
    # Only .identifier/.anonymous of the target are read (Kit may pass a frozen stand-in, see
    # docs/architecture.md); the anchor the asset check needs is derived from them.
    anonymous = bool(target_layer.anonymous)
    ident = str(target_layer.identifier).split(":SDF_FORMAT_ARGS:", 1)[0]
    anchor = SimpleNamespace(anonymous=anonymous, realPath="" if anonymous else os.path.realpath(ident))

    def allowed(asset: str, _delta_layer: Any, *, composition: bool = True) -> bool:
        try:
            if not composition:
                check_asset_value(asset, roots)
                return True
            return check_asset_path(asset, roots, anchor=anchor) == asset
        except (AssetDenied, TypeError, ValueError):
            return False

    return allowed

