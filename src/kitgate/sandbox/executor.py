"""Executor: compile + execute + apply, atomically, in the mode the policy names.

- isolated (readonly, scene-edit): the job runs in a disposable child of a warm fork server
  (`forkserver.py`, `child.py`); only data comes back; the parent validates the spec-level delta
  (`delta.py`) and applies it in one `Sdf.ChangeBlock`. Under a read-only policy no delta is requested.
- in_process (trusted): guarded execution on the real stage; the edit target and session layer are
  backed up first and restored on any failure. It cannot stop a single long C call (SECURITY.md).

Threading: an Executor serialises its callers with a lock (one job at a time) and never starts a
thread; `execute()` returns the delta so a host (Kit) can apply it on its own thread inside an undo
group. `close()` stops the fork server; no child process survives it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import marshal
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from kitgate.protocol.status import REPORTABLE_STATUSES
from kitgate.sandbox.delta import MAX_DELTA_BYTES, Delta, DeltaError, DeltaRejected, DeltaTooLarge
from kitgate.sandbox.forkserver import CODE_MAGIC, recv_frame, send_frame
from kitgate.sandbox.procstat import run_delay_ms

READY_TIMEOUT_S = 60.0
SERVER_GRACE_S = 5.0  # beyond the server's own hard kill: the server itself is wedged
ACK_TIMEOUT_S = 30.0  # parse request + snapshot + fork; beyond this the server is wedged (job not started)
RESULT_OVERHEAD = 256 * 1024
CRASH_SIGNALS = {signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGTRAP}
BASE_ENV_KEYS = ("PATH", "LANG", "LC_ALL")
STATUSES = REPORTABLE_STATUSES  # kitgate.protocol.status: what a job may end as
_CHILD_TIMINGS = ("setup_ms", "run_ms", "delta_ms", "cpu_ms", "minflt", "prejob_cpu_ms", "isolate_cpu_ms", "wait_ms")
_SERVER_TIMINGS = ("prepare", "fork", "dispatch", "child", "cpu", "wait", "spare_fork")
# Below this size the edit-target layer is exported for every job (cheap, and then the scene copy is
# checked by content hash alone); above it an unchanged layer, as counted by its change notices, is
# not exported again (see `_LayerWatch`).
SNAPSHOT_REUSE_MIN_BYTES = 64 * 1024
# The server's first frame on its socket is the host's sys.path (JSON), not an argument: one argument
# is capped at 128 KiB on Linux (MAX_ARG_STRLEN) and Kit's sys.path can be longer. The bootstrap reads
# that frame with the stdlib alone (nothing of kitgate is importable before it) and then hands the same
# socket to the server.
MAX_SYS_PATH_BYTES = 16 * 1024 * 1024
_BOOTSTRAP = (
    "import sys, json, socket\n"
    "s = socket.socket(fileno=int(sys.argv[1]))\n"
    "def rx(n):\n"
    "    b = b''\n"
    "    while len(b) < n:\n"
    "        c = s.recv(n - len(b))\n"
    "        if not c: raise SystemExit('kitgate fork server: the host closed the socket before sys.path')\n"
    "        b += c\n"
    "    return b\n"
    "n = int.from_bytes(rx(4), 'big')\n"
    f"if n > {MAX_SYS_PATH_BYTES}: raise SystemExit('kitgate fork server: sys.path frame too large')\n"
    "sys.path[:0] = json.loads(rx(n))\n"
    "from kitgate.sandbox.forkserver import main\n"
    "main(sys.argv[1:], sock=s)\n"
)


class SandboxUnavailable(RuntimeError):
    """The fork server could not be started or stopped answering."""


class _ServerLost(Exception):
    def __init__(self, message: str, *, started: bool, timed_out: bool = False) -> None:
        super().__init__(message)
        self.started = started
        self.timed_out = timed_out


class ForkServerProcess:
    """Parent-side handle of one fork server process (started lazily, restarted after a crash)."""

    def __init__(self, python: str, scratch_root: Path, env: dict[str, str]) -> None:
        self.python = python
        self.scratch_root = scratch_root
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self.starts = 0  # changes whenever a new server process (with empty caches) starts
        self.child_pid: int | None = None  # the child running the current job (diagnostics, tests)
        self.last_child_pid: int | None = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        self.starts += 1
        parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        paths = [p for p in sys.path if p and os.path.isdir(p)]
        log = open(self.scratch_root / "forkserver.log", "wb")  # noqa: SIM115 - handed to the child
        try:
            self.proc = subprocess.Popen(
                [self.python, "-I", "-c", _BOOTSTRAP, str(child_sock.fileno()), str(self.scratch_root)],
                pass_fds=[child_sock.fileno()], env=self.env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, start_new_session=True, cwd=self.scratch_root, close_fds=True,
            )
        except OSError as exc:
            parent_sock.close()
            raise SandboxUnavailable(f"cannot start {self.python}: {exc.strerror or exc}") from None
        finally:
            child_sock.close()
            log.close()
        self.sock = parent_sock
        try:
            parent_sock.settimeout(READY_TIMEOUT_S)
            send_frame(parent_sock, json.dumps(paths).encode())
            ready = self._recv_json(READY_TIMEOUT_S)
        except (OSError, _ServerLost) as exc:
            tail = (self.scratch_root / "forkserver.log").read_bytes()[-2000:].decode("utf-8", "replace")
            self.stop()
            raise SandboxUnavailable(f"fork server did not start: {exc}; {tail}") from None
        if not ready.get("ready"):
            self.stop()
            raise SandboxUnavailable("fork server did not start")

    def _recv(self, timeout_s: float, max_bytes: int) -> bytes:
        assert self.sock is not None
        self.sock.settimeout(max(0.01, timeout_s))
        try:
            data = recv_frame(self.sock, max_bytes)
        except TimeoutError:
            raise _ServerLost("no answer in time (wedged)", started=True, timed_out=True) from None
        except (OSError, ValueError) as exc:
            raise _ServerLost(f"connection failed ({type(exc).__name__})", started=True) from None
        if data is None:
            raise _ServerLost("connection closed", started=True)
        return data

    def _recv_json(self, timeout_s: float) -> dict[str, Any]:
        try:
            data = json.loads(self._recv(timeout_s, 1024 * 1024))
        except ValueError:
            raise _ServerLost("malformed frame", started=True) from None
        if not isinstance(data, dict):
            raise _ServerLost("malformed frame", started=True)
        return data

    def call(self, request: dict[str, Any], timeout_s: float, result_cap: int) -> tuple[dict[str, Any], bytes]:
        if not self.alive:
            self.stop()
            self.start()
        assert self.sock is not None
        try:
            self.sock.settimeout(30.0)
            send_frame(self.sock, json.dumps(request).encode())
        except OSError as exc:
            self.stop()
            raise _ServerLost(f"send failed ({exc})", started=False) from None
        try:
            ack = self._recv_json(ACK_TIMEOUT_S)  # "started": the server handed the job to a child
        except _ServerLost as exc:
            self.stop()
            raise _ServerLost(str(exc), started=False, timed_out=exc.timed_out) from None
        pid = ack.get("started")
        self.child_pid = self.last_child_pid = pid if isinstance(pid, int) else None
        deadline = time.monotonic() + timeout_s
        try:
            header = self._recv_json(timeout_s)
            result = self._recv(deadline - time.monotonic() + 1.0, result_cap + RESULT_OVERHEAD)
        except _ServerLost:
            self.stop()
            raise
        finally:
            self.child_pid = None
        return header, result

    def kill(self) -> None:
        """SIGKILL the server (safe from another thread: no state changes; PDEATHSIG ends its child)."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)

    def stop(self, graceful: bool = False) -> None:
        """Close the socket; a graceful stop lets the server exit on EOF, otherwise it is killed."""
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
            self.sock = None
        if self.proc is not None:
            try:
                self.proc.wait(timeout=2.0 if graceful else 0.0)  # EOF on its socket makes it exit
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.kill()
                self.proc.wait()
            self.proc = None


class _LayerWatch:
    """Counts the change notices of one host layer (`Sdf.Notice.LayersDidChangeSentPerLayer`).

    WHY: exporting a 10,000-prim layer costs 50-250 ms and the server must then hash (or parse) it. If
    not one notice arrived since the layer's content was last sent or synced, the server's copy still
    matches and the job can name that copy instead. Sdf sends the notice for every content change
    (also `Clear`, `ImportFromString`, `TransferContent`, reloads) and none for a no-op, so a missed
    change needs a host that blocks notice delivery (C++ `TfNotice::Block`); SECURITY.md lists this.
    Small layers are exported anyway (SNAPSHOT_REUSE_MIN_BYTES), so for them nothing depends on it.
    """

    def __init__(self, layer: Any) -> None:
        from pxr import Sdf, Tf

        self.layer = layer  # a weak handle: it does not keep the host's layer alive
        self.count = 0
        self._listener: Any = Tf.Notice.Register(Sdf.Notice.LayersDidChangeSentPerLayer, self._bump, layer)

    def _bump(self, _notice: Any, _sender: Any) -> None:
        self.count += 1

    def watches(self, layer: Any) -> bool:
        return self._listener is not None and not self.layer.expired and not layer.expired and self.layer == layer

    def close(self) -> None:
        if self._listener is not None:
            self._listener.Revoke()
            self._listener = None


class _Known:
    """What the parent knows about the server's copy: the host layer at change count `count` (None:
    not counted, e.g. a Kit FrozenLayer) has exactly the content the server holds as `content_id`."""

    __slots__ = ("watch", "content_id", "count", "starts")

    def __init__(self, watch: _LayerWatch | None, content_id: str, count: int | None, starts: int) -> None:
        self.watch = watch
        self.content_id = content_id
        self.count = count
        self.starts = starts


class _HostDelta(Delta):
    """A Delta that records the host layer's change count around its own `apply_to`, so the executor
    can tell that the host layer changed by exactly this delta and nothing else."""

    _kg_watch: _LayerWatch | None = None
    _kg_base: tuple[str, int, int | None, str] | None = None  # (content id, server starts, count, identifier)
    _kg_applied: tuple[int, int] | None = None

    def apply_to(self, stage_or_layer: Any) -> list[str]:
        watch = self._kg_watch
        target = stage_or_layer.GetEditTarget().GetLayer() if hasattr(stage_or_layer, "GetEditTarget") \
            else stage_or_layer
        before = watch.count if watch is not None else None
        changed = super().apply_to(stage_or_layer)
        if watch is not None and before is not None and watch.watches(target):
            self._kg_applied = (before, watch.count)
        return changed


USD_LOADER_ENV_KEYS = ("LD_LIBRARY_PATH", "PXR_PLUGINPATH_NAME")


def _checked_server_env(values: dict[str, str]) -> dict[str, str]:
    unknown = set(values) - set(USD_LOADER_ENV_KEYS)
    if unknown:
        raise ValueError(f"server_env may only set {', '.join(USD_LOADER_ENV_KEYS)}, not {', '.join(sorted(unknown))}")
    return {k: str(v) for k, v in values.items() if v}


def _has_shared_libs(folder: Path) -> bool:
    try:
        return folder.is_dir() and any(p.name.startswith("lib") and ".so" in p.name for p in folder.iterdir())
    except OSError:
        return False


def usd_loader_env(pxr_dir: Path | None = None) -> dict[str, str]:
    """The loader and plugin paths a fresh interpreter needs to import the host's `pxr`, derived from it.

    WHY: in Kit, `pxr` comes from the omni.usd.libs extension and its shared libraries sit in that
    extension's `bin/` folder, which Kit's own process found through Kit's loader setup; a fresh
    `python3 -I` finds neither them nor their `plugInfo.json` (`bin/usd/`). usd-core wheels need nothing
    (their RPATH points at `usd_core.libs/`), and then this returns {}. Only folders next to the `pxr`
    package (or one level up) are considered; nothing is taken from the host's environment.
    """
    if pxr_dir is None:
        import pxr

        pxr_dir = Path(pxr.__file__).resolve().parent
    libdirs: list[Path] = []
    for base in (pxr_dir.parent, pxr_dir.parent.parent):
        libdirs += [d for d in (base / "bin", base / "lib") if _has_shared_libs(d) and d not in libdirs]
        if libdirs:
            break
    plugins = [d / "usd" for d in libdirs if (d / "usd" / "plugInfo.json").is_file()]
    env: dict[str, str] = {}
    if libdirs:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(str(d) for d in libdirs)
    if plugins:
        env["PXR_PLUGINPATH_NAME"] = os.pathsep.join(str(d) for d in plugins)
    return env


class PendingDelta:
    """A child's delta, checked for shape but not yet turned into an Sdf layer.

    WHY: building an Sdf layer (even a new anonymous one) sends `Sdf.Notice.LayersDidChange`
    synchronously on the building thread, to every global listener in the process: in Kit those are
    Kit's own (layer widgets, live sync), which must only run on the main thread. A host that waits for
    the child on a helper thread therefore gets this object and calls `build()` on its main thread,
    right before applying (same validation as `Delta.from_wire`; raises DeltaError/DeltaTooLarge).
    After `build()`, attribute reads fall through to the built delta (so `note_applied` works on it).
    """

    def __init__(self, wire: dict[str, Any], asset_allowed: Any, watch: Any, base: Any) -> None:
        self.wire = wire
        self._asset_allowed = asset_allowed
        self._watch = watch
        self._base = base
        self.built: _HostDelta | None = None
        changed = wire.get("changed") if isinstance(wire, dict) else None
        self.changed_prims = [c for c in changed if isinstance(c, str)][:1000] if isinstance(changed, list) else []
        total = wire.get("changed_total") if isinstance(wire, dict) else None
        self.changed_prims_total = total if isinstance(total, int) and total >= 0 else len(self.changed_prims)

    def build(self) -> _HostDelta:
        if self.built is None:
            delta = _HostDelta.from_wire(self.wire, asset_allowed=self._asset_allowed)
            delta._kg_watch = self._watch
            delta._kg_base = self._base
            self.built = delta
        return self.built

    def __getattr__(self, name: str) -> Any:
        built = self.__dict__.get("built")
        if built is None:
            raise AttributeError(name)
        return getattr(built, name)


class Executor:
    """Runs jobs under their policy's execution mode. Not for concurrent callers: a lock serialises.

    `python`: the interpreter for the fork server (Kit passes its own, see kit-extension-facts §5.3).
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
        env = {k: os.environ[k] for k in (*BASE_ENV_KEYS, *env_passthrough) if k in os.environ}
        env.setdefault("PATH", "/usr/bin:/bin")
        env["PXR_WORK_THREAD_LIMIT"] = "1"  # USD must not start worker threads in the server
        env.update(_checked_server_env(server_env or {}))
        self.server_env = dict(env)  # exactly what the fork server process gets
        self._server = ForkServerProcess(self.python, root, env)
        self._lock = threading.Lock()
        self._closed = False
        self._watch: _LayerWatch | None = None
        self._known: _Known | None = None
        self._pending_sync: dict[str, Any] | None = None
        self._server_policies: set[str] = set()  # digests the current server process holds
        self._policies_starts = 0
        self._last_export_bytes = 0

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
            if self._watch is not None:
                self._watch.close()
                self._watch = None
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
            return _replace(outcome, status="failed", value=None, changed_prims=[], changed_prims_total=0,
                            error=_error("DeltaRejected", str(exc)))
        except Exception as exc:
            return _replace(outcome, status="failed", value=None, changed_prims=[], changed_prims_total=0,
                            error=_error("ApplyError", f"the scene delta could not be applied: {exc}"))
        finally:
            _set_timing(outcome, "apply_ms", (time.perf_counter() - started) * 1000)
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
        base = getattr(delta, "_kg_base", None)
        wire = getattr(delta, "wire", None)
        if base is None or wire is None:
            return
        content_id, starts, count_at_execute, ident = base
        watch = getattr(delta, "_kg_watch", None)
        applied = getattr(delta, "_kg_applied", None)
        if getattr(delta, "empty", False):
            return  # nothing changed: the server's copy (and what we know of it) still holds
        count: int | None = None  # not counted (e.g. a FrozenLayer): the server verifies the next text
        if watch is not None:
            # Trust the count only if the layer changed exactly once, by this apply, since the snapshot.
            trusted = applied is not None and applied[0] == count_at_execute and applied[1] == applied[0] + 1
            count = applied[1] if trusted and applied is not None else None
        with self._lock:
            if starts != self._server.starts:
                return
            key = "sync:" + uuid.uuid4().hex
            self._pending_sync = {"base": content_id, "delta": wire, "key": key, "ident": ident}
            self._known = _Known(watch, key, count, starts) if count is not None else None

    def execute(
        self, source: str | bytes, policy: Any, stage: Any, timeout_s: float | None = None
    ) -> tuple[Any, Delta | None]:
        """Run the job; isolated mode touches nothing and returns the delta for the host to apply.

        In-process mode (trusted) edits the stage directly (atomically) and returns no delta.
        """
        from kitgate.sandbox.compiler import compile_source

        with self._lock:
            if self._closed:
                raise SandboxUnavailable("executor is closed")
            t0 = time.perf_counter()
            compiled = compile_source(source, policy)
            compile_ms = (time.perf_counter() - t0) * 1000
            if not compiled.ok:
                outcome = _outcome(status="rejected", violations=[v.to_dict() for v in compiled.violations],
                                   error=_error("PolicyViolation", "the script violates the policy"),
                                   timings={"compile_ms": compile_ms})
                return outcome, None
            timeout = _effective_timeout(policy, timeout_s)
            if getattr(policy, "mode", "isolated") == "in_process":
                outcome = self._in_process(compiled, policy, stage, timeout)
                delta = None
            else:
                outcome, delta = self._isolated(compiled, source, policy, stage, timeout)
            _set_timing(outcome, "compile_ms", compile_ms)
            return outcome, delta

    # --------------------------------------------------------------------------------- isolated

    def _isolated(self, compiled: Any, source: str | bytes, policy: Any, stage: Any,
                  timeout: float) -> tuple[Any, Delta | None]:
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
        watch = self._watch_layer(layer)
        known = self._known if self._known is not None and self._known.starts == self._server.starts else None
        if known is not None and known.watch is not watch:
            known = None
        # The server holds our layer's content if not one change notice arrived since it was sent/synced.
        reuse = (known is not None and watch is not None and known.watch is watch and watch.watches(layer)
                 and known.count == watch.count and self._last_export_bytes >= SNAPSHOT_REUSE_MIN_BYTES)
        request: dict[str, Any] = {
            "op": "run",
            "source": text,
            "code": _code_payload(compiled),
            "policy": {"name": policy.name, "digest": policy.digest, "asset_roots": list(policy.asset_roots)},
            "timeout_s": timeout,
            "cpu_s": max(1, math.ceil(float(limits.cpu_s))),
            "memory_mb": int(limits.memory_mb),
            "result_cap": result_cap,
            "rng_seed": None,
            "want_delta": want_delta,
        }
        pending, self._pending_sync = self._pending_sync, None
        if pending is not None and pending.get("ident") == layer.identifier:
            request["sync"] = pending  # the host applied it to this layer after the previous job
        full_policy = policy.digest not in self._server_policies
        snapshot_ms = 0.0
        count_at_export: int | None = None
        started = time.perf_counter()
        header: dict[str, Any] | None = None
        raw = b""
        lost = 0
        for _attempt in range(6):
            if full_policy:
                request["policy"]["source"] = policy.source
            snap: dict[str, Any] = {"identifier": layer.identifier, "anonymous": layer.anonymous}
            if reuse:
                assert known is not None
                snap["ref"] = known.content_id
            else:
                count_at_export = watch.count if watch is not None else None
                t_snap = time.perf_counter()
                snap["text"] = layer.ExportToString()
                snapshot_ms += (time.perf_counter() - t_snap) * 1000
                self._last_export_bytes = len(snap["text"])
            request["snapshot"] = snap
            try:
                header, raw = self._server.call(request, timeout + max(1.0, 0.1 * timeout) + SERVER_GRACE_S,
                                                result_cap)
            except SandboxUnavailable as exc:
                return _outcome(status="failed", error=_error("SandboxUnavailable", str(exc))), None
            except _ServerLost as exc:
                # A job only edits a copy, so re-running one the server lost before it ran is safe.
                lost += 1
                if exc.started or lost == 2 or self._closed:
                    return _outcome(status="timed_out" if exc.timed_out else "failed",
                                    limit="timeout" if exc.timed_out else None,
                                    error=_error("SandboxError", f"fork server lost: {exc}")), None
                self._server_policies.clear()
                full_policy, reuse, known = True, False, None
                request.pop("sync", None)
                continue
            need = header.get("need")
            if need == "policy" and not full_policy:
                full_policy = True
                continue
            if need == "snapshot" and reuse:
                reuse = False
                request.pop("sync", None)
                continue
            break
        run_ms = (time.perf_counter() - started) * 1000
        assert header is not None
        self._policies_starts = self._server.starts
        if header.get("ok"):
            self._server_policies.add(policy.digest)
        outcome, wire_delta = _map_result(header, raw, policy)
        _set_timing(outcome, "run_ms", run_ms)
        _set_timing(outcome, "snapshot_ms", snapshot_ms)
        base: tuple[str, int, int | None, str] | None = None
        key = header.get("snapshot_key")
        if isinstance(key, list) and len(key) == 2 and all(isinstance(k, str) for k in key) and key[1]:
            # The layer as exported (or as referenced) is what the server holds under key[1].
            count = count_at_export if not reuse else (known.count if known is not None else None)
            self._known = _Known(watch, key[1], count, self._server.starts) if count is not None else None
            base = (key[1], self._server.starts, count, str(layer.identifier))
        else:
            self._known = None
        _set_timing(outcome, "snapshot_reused", 1.0 if reuse else 0.0)
        if header.get("snapshot") in ("hit", "synced", "rebuilt"):
            _set_timing(outcome, f"snapshot_{header['snapshot']}", 1.0)
        if header.get("child") in ("spare", "fresh"):
            _set_timing(outcome, "server_spare", 1.0 if header["child"] == "spare" else 0.0)
        server_ms = header.get("server_ms")
        if isinstance(server_ms, dict):
            for name in _SERVER_TIMINGS:
                if isinstance(server_ms.get(name), (int, float)):
                    _set_timing(outcome, f"server_{name}_ms", server_ms[name])
        if wire_delta is None or outcome.status != "succeeded":
            _set_parent_timings(outcome, cpu0, wait0)
            return outcome, None
        if self._defer_delta:
            pending = PendingDelta(wire_delta, _asset_checker(policy, layer), watch, base)
            _set_parent_timings(outcome, cpu0, wait0)
            return _replace(outcome, changed_prims=pending.changed_prims,
                            changed_prims_total=pending.changed_prims_total), pending
        try:
            delta = _HostDelta.from_wire(wire_delta, asset_allowed=_asset_checker(policy, layer))
        except DeltaTooLarge as exc:
            return _replace(outcome, status="failed", value=None, limit="result",
                            error=_error("DeltaTooLarge", str(exc))), None
        except DeltaError as exc:
            return _replace(outcome, status="failed", value=None,
                            error=_error("DeltaRejected", str(exc))), None
        delta._kg_watch = watch
        delta._kg_base = base
        _set_parent_timings(outcome, cpu0, wait0)
        return _replace(outcome, changed_prims=delta.changed_prims,
                        changed_prims_total=delta.changed_prims_total), delta

    def _watch_layer(self, layer: Any) -> _LayerWatch | None:
        """The change counter of the host's edit-target layer (only real Sdf layers can be counted)."""
        try:
            from pxr import Sdf
        except ImportError:
            return None
        if not isinstance(layer, Sdf.Layer):
            return None
        if self._watch is not None and self._watch.watches(layer):
            return self._watch
        if self._watch is not None:
            self._watch.close()
        self._known = None
        self._watch = _LayerWatch(layer)
        return self._watch

    # ------------------------------------------------------------------------------- in-process

    def _in_process(self, compiled: Any, policy: Any, stage: Any, timeout: float) -> Any:
        from pxr import Sdf

        from kitgate.sandbox.delta import ChangeRecorder, changed_prim_paths
        from kitgate.sandbox.runtime import run_guarded

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
        try:
            report = run_guarded(compiled, policy, stage, deadline=time.monotonic() + timeout)
            ok = report.status == "succeeded"
        finally:
            recorder.stop()
            if not ok:
                with Sdf.ChangeBlock():
                    for layer, copy in backups:
                        layer.TransferContent(copy)
        run_ms = (time.perf_counter() - started) * 1000
        fields = _report_fields(report, policy)
        changed, total = changed_prim_paths(recorder) if ok else ([], 0)
        return _outcome(**fields, changed_prims=changed, changed_prims_total=total, timings={"run_ms": run_ms})


# ------------------------------------------------------------------------------------ mapping


def _set_parent_timings(outcome: Any, cpu0: float, wait0: float) -> None:
    """The host thread's CPU and run-queue wait in `_isolated` since (cpu0, wait0)."""
    _set_timing(outcome, "parent_cpu_ms", (time.thread_time() - cpu0) * 1000)
    _set_timing(outcome, "parent_wait_ms", run_delay_ms() - wait0)


def _code_payload(compiled: Any) -> dict[str, Any] | None:
    """The compiled code object for the server (the same Python only; it compiles again otherwise)."""
    code = getattr(compiled, "code", None)
    if code is None:
        return None
    return {"magic": CODE_MAGIC, "sha256": compiled.code_sha256,
            "data": base64.b64encode(marshal.dumps(code)).decode("ascii")}


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
    from kitgate.sandbox.assets import AssetDenied, check_asset_path, check_asset_value

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


def _error(kind: str, message: str, line: int | None = None) -> dict[str, Any]:
    return {"type": kind, "message": message[:4000], "line": line}


def _report_fields(report: Any, policy: Any) -> dict[str, Any]:
    cap = int(policy.limits.output_bytes)
    stdout = report.stdout if isinstance(getattr(report, "stdout", None), str) else ""
    truncated = int(getattr(report, "stdout_truncated", 0) or 0)
    if len(stdout.encode()) > cap:
        cut = stdout.encode()[:cap]
        truncated += len(stdout.encode()) - cap
        stdout = cut.decode("utf-8", "ignore")
    status = report.status if report.status in STATUSES else "failed"
    error = report.error
    if error is not None and not isinstance(error, dict):
        error = error.to_dict() if hasattr(error, "to_dict") else {"type": "Error", "message": str(error), "line": None}
    limit = getattr(report, "limit", None)
    if limit is None and isinstance(error, dict) and error.get("type") == "MemoryError":
        limit = "memory"
    return {"status": status, "stdout": stdout, "stdout_truncated": truncated, "value": report.value,
            "error": error, "limit": limit}


class _WireReport:
    """The child's report after type checks (the child is untrusted; its JSON is just data)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.status = data.get("status") if data.get("status") in STATUSES else "failed"
        self.stdout = data.get("stdout") if isinstance(data.get("stdout"), str) else ""
        st = data.get("stdout_truncated")
        self.stdout_truncated = st if isinstance(st, int) and st >= 0 else 0
        self.value = data.get("value")
        err = data.get("error")
        if err is not None:
            if not isinstance(err, dict):
                err = {"type": "Error", "message": str(err)}
            line = err.get("line")
            err = _error(str(err.get("type") or "Error")[:200], str(err.get("message") or ""),
                         line if isinstance(line, int) else None)
        self.error = err
        limit = data.get("limit")
        self.limit = limit[:64] if isinstance(limit, str) else None


def _map_result(header: dict[str, Any], raw: bytes, policy: Any) -> tuple[Any, dict[str, Any] | None]:
    """Turn the server's account of the child (+ the child's own JSON) into an outcome."""
    if not header.get("ok"):
        return _outcome(status="failed", error=_error("SandboxError", str(header.get("error", "")))), None
    stderr_tail = str(header.get("stderr", ""))[-2000:]
    killed = header.get("killed")
    sig = header.get("signal")
    code = header.get("exit_code")
    cpu_limit = max(1, math.ceil(float(policy.limits.cpu_s)))
    if killed == "timeout":
        return _outcome(status="timed_out", limit="timeout",
                        error=_error("TimeoutError", f"wall-clock limit of {policy.limits.timeout_s}s reached "
                                                     "(or the job's own timeout)")), None
    if killed == "output":
        return _outcome(status="failed", limit="output",
                        error=_error("OutputLimitExceeded", "native output flood: the job was killed")), None
    if killed == "result":
        return _outcome(status="failed", limit="result",
                        error=_error("ResultTooLarge", "the job's result exceeded the cap: the job was killed")), None
    if header.get("complete") and raw:
        return _parse_child_result(raw, policy)  # how a finished child was then reaped does not matter
    if sig is not None:
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and float(header.get("cpu_s", 0)) >= cpu_limit - 0.05):
            return _outcome(status="failed", limit="cpu",
                            error=_error("CPULimitExceeded", f"CPU limit of {cpu_limit}s reached")), None
        if "bad_alloc" in stderr_tail or "MemoryError" in stderr_tail:
            return _outcome(status="failed", limit="memory",
                            error=_error("MemoryError", f"memory limit of {policy.limits.memory_mb} MB reached")), None
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return _outcome(status="failed", error=_error("Crash", f"the job's process died of {name}"
                                                      + (f"; stderr: {stderr_tail}" if stderr_tail else ""))), None
    if "MemoryError" in stderr_tail or "bad_alloc" in stderr_tail:
        return _outcome(status="failed", limit="memory",
                        error=_error("MemoryError", f"memory limit of {policy.limits.memory_mb} MB reached")), None
    # No stderr here: an exit without a result is the sandbox's own failure and its traceback would show
    # sandbox internals (native crashes, above, keep their stderr: that is USD's own message).
    return _outcome(status="failed", error=_error("Crash", f"the job's process exited with code {code} without a "
                                                  "result")), None


def _parse_child_result(raw: bytes, policy: Any) -> tuple[Any, dict[str, Any] | None]:
    try:
        body = json.loads(raw)
        if not isinstance(body, dict) or not isinstance(body.get("report"), dict):
            raise ValueError("not an object")
    except (ValueError, RecursionError):
        return _outcome(status="failed", error=_error("SandboxError", "the job returned malformed data")), None
    fields = _report_fields(_WireReport(body["report"]), policy)
    delta = body.get("delta")
    timings = body.get("timings")
    child = {f"child_{k}": round(v, 3) for k, v in timings.items() if k in _CHILD_TIMINGS
             and isinstance(v, (int, float))} if isinstance(timings, dict) else {}
    return _outcome(**fields, timings=child), (delta if isinstance(delta, dict) else None)


# ------------------------------------------------------------------------------ JobOutcome glue


def _outcome(**fields: Any) -> Any:
    from kitgate.sandbox.outcome import JobOutcome

    fields.setdefault("timings", {})
    return JobOutcome(**fields)


def _replace(outcome: Any, **changes: Any) -> Any:
    import dataclasses

    return dataclasses.replace(outcome, **changes)


def _set_timing(outcome: Any, key: str, ms: float) -> None:
    timings = outcome.timings
    if isinstance(timings, dict):
        timings[key] = round(ms, 3)
    else:
        setattr(timings, key, round(ms, 3))
