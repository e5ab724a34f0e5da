"""The disposable job child: everything that happens between fork and `os._exit`.

WHY a separate module: this is the only code that runs with untrusted code in the same process, so it
must be short and obviously ordered: isolate the process first (session, fds, cwd, env, base rlimits),
optionally warm up while waiting (a pre-forked spare), read exactly one job from the server, lower the
job's CPU and address-space limits, run the guarded script, and write DATA ONLY (JSON) to the result
pipe. A child runs at most one job: after it the server kills it.
"""

from __future__ import annotations

import gc
import json
import marshal
import os
import resource
import select
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any, NoReturn

from kitgate.sandbox.process.procstat import run_delay_ms
from kitgate.sandbox.process.rlimits import (
    ChildLimits,
    address_space_for,
    apply_base_limits,
    apply_job_limits,
    current_address_space,
    die_with_parent,
)

EXIT_OK = 0
EXIT_SETUP_FAILED = 71
EXIT_RESULT_FAILED = 72
EXIT_NO_JOB = 73  # the server discarded this spare (EOF on the command pipe)
REPORT_FIELDS = ("status", "stdout", "stdout_truncated", "value", "error", "limit")
MAX_JOB_FRAME = 64 * 1024 * 1024
WARM_DELAY_S = 0.05  # a spare warms up only if its job did not arrive within this (see _warm)


@dataclass
class ChildSetup:
    """What a child inherits from the fork server through fork (never pickled)."""

    stage: Any  # Usd.Stage opened on the snapshot by the server (the child edits its COW copy)
    layer: Any  # the stage's root layer = copy of the host's edit target
    policies: dict[Any, Any]  # the server's policy cache as of the fork; the job names its key
    scratch: str
    env: dict[str, str]
    server_pid: int
    warm_policy: Any | None = None  # a spare warms up under this policy while it waits for its job
    warm_scripts: tuple[str, ...] = ()
    recorder: Any | None = None  # a ChangeRecorder on `stage` the server built before fork (see _recorder)
    warm_stage: Any | None = None  # a small stage of the server's, for the warm-up (never the job's stage)


@dataclass
class ChildJob:
    """One job as the server sent it over the command pipe (the server is trusted; the job is not)."""

    compiled: Any  # CompileResult rebuilt from the server's marshalled code object
    policy: Any
    limits: ChildLimits
    timeout_s: float
    rng_seed: int | None
    want_delta: bool
    result_cap: int
    sync: dict[str, Any] | None = None  # the host's last delta: this copy predates it, apply it first
    live: bool = False  # pass printed text on through the live pipe while the job runs


def _isolate(setup: ChildSetup, cmd_fd: int, result_fd: int, err_fd: int, live_fd: int = -1) -> None:
    os.setsid()  # own session + process group: the server kills the whole group
    die_with_parent()
    if os.getppid() != setup.server_pid:  # the server died before prctl took effect
        os._exit(EXIT_SETUP_FAILED)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(err_fd, 1)  # native stdout and stderr both go to the capped capture pipe
    os.dup2(err_fd, 2)
    keep = sorted({0, 1, 2, result_fd, cmd_fd} | ({live_fd} if live_fd >= 0 else set()))
    lo = 3
    for fd in keep:
        if fd >= lo:
            os.closerange(lo, fd)
            lo = fd + 1
    os.closerange(lo, 65536)
    _private_cwd(setup.scratch)
    os.environ.clear()
    os.environ.update(setup.env)
    os.umask(0o077)
    apply_base_limits(ChildLimits(cpu_s=0, address_space_bytes=0))


def _private_cwd(scratch: str) -> None:
    """Work in an empty directory nobody writes to, with no resolver search path.

    USD resolves relative asset paths of anonymous layers against the working directory and looks
    search-path names ("chair.usda") up there and on the default search path. The object layer keeps
    such paths from reaching an anonymous layer (anchoring.py); this is the second wall: a name that
    still got through finds nothing here, and nothing on a search path (the fork server cleared the
    resolver's search path once before any fork: forkserver._clear_search_path; every child inherits it).
    The directory is new (the server picked a random name; mkdir fails rather than reuse one), empty and
    read-only (0500); it is also HOME and TMPDIR. The server removes it after the job.
    """
    os.mkdir(scratch, 0o500)
    os.chdir(scratch)


def open_snapshot(snapshot: dict[str, Any]) -> tuple[Any, Any]:
    """Open the edit-target copy as an in-memory root layer with the original identifier, so relative
    asset paths resolve exactly as on the host stage (Sdf.Layer.New never touches the file)."""
    from pxr import Sdf, Usd

    layer = None
    if not snapshot.get("anonymous"):
        try:
            layer = Sdf.Layer.New(Sdf.FileFormat.FindById("usda"), snapshot["identifier"])
        except Exception:  # identifier with a foreign format/extension: fall back to anonymous
            layer = None
    if layer is None:
        layer = Sdf.Layer.CreateAnonymous(".usda")
    if not layer.ImportFromString(snapshot["text"]):
        raise RuntimeError("could not open the stage snapshot")
    stage = Usd.Stage.Open(layer)
    return stage, layer


def _job_pending(cmd_fd: int, wait_s: float = 0.0) -> bool:
    return bool(select.select([cmd_fd], [], [], wait_s)[0])


def _warm(setup: ChildSetup, cmd_fd: int) -> None:
    """Run our own fixed scripts once in this process while no job is waiting, so the copy-on-write
    faults of the runtime's hot paths happen now instead of during the job. Stops as soon as the job
    arrives; never touches the job's stage (only this child's copy of the server's warm stage); never
    raises. Starts only if no job came within WARM_DELAY_S: the warm-up costs more CPU than it saves
    the job (~1.5-2.5 ms to save ~0.8 ms on the 2-core VM), so it is only worth it on an idle host (an
    interactive user's jobs are seconds apart), not under a steady load, where jobs follow within a
    few ms of each other and CPU is the limit."""
    if setup.warm_stage is None or _job_pending(cmd_fd, WARM_DELAY_S):
        return
    try:
        from kitgate.sandbox.compile.compiler import compile_source
        from kitgate.sandbox.runtime.hooks import run_guarded

        policy = setup.warm_policy
        for source in setup.warm_scripts:
            if _job_pending(cmd_fd):
                return
            compiled = compile_source(source, policy)  # a cache hit: the server warmed the policy
            if compiled.ok:
                run_guarded(compiled, policy, setup.warm_stage, deadline=time.monotonic() + 2.0)
    except Exception:  # noqa: S110 - warming is an optimisation; the job runs the same without it
        pass


def _recorder(setup: ChildSetup, job: ChildJob) -> Any | None:
    """The job's change recorder: the one the server built on this scene copy before fork, if it has not
    seen a single change since (a sync delta applied above, for one, makes it useless), else a new one."""
    from kitgate.sandbox.delta import ChangeRecorder

    inherited = setup.recorder
    if inherited is not None and job.want_delta and job.sync is None and inherited.pristine():
        return inherited
    if inherited is not None:
        inherited.stop()
    return ChangeRecorder(setup.stage, setup.layer) if job.want_delta else None


def _read_exact(fd: int, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(fd, min(n - len(buf), 1 << 20))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def read_job(setup: ChildSetup, cmd_fd: int) -> ChildJob | None:
    """One frame from the server: 4-byte length + JSON header, then the marshalled code object."""
    from kitgate.sandbox.compile.compiler import CompileResult

    head = _read_exact(cmd_fd, 4)
    if head is None:
        return None
    size = int.from_bytes(head, "big")
    if size > MAX_JOB_FRAME:
        return None
    body = _read_exact(cmd_fd, size)
    if body is None:
        return None
    meta = json.loads(body)
    code_bytes = _read_exact(cmd_fd, int(meta["code_len"]))
    if code_bytes is None:
        return None
    policy = setup.policies[tuple(meta["policy_key"])]
    limits = ChildLimits(cpu_s=int(meta["cpu_s"]),
                         address_space_bytes=address_space_for(int(meta["memory_mb"]), current_address_space()))
    apply_job_limits(limits)  # before the job's code object exists in this process
    code = marshal.loads(code_bytes)  # noqa: S302 - written by the fork server (trusted), before any job code ran
    compiled = CompileResult(ok=True, violations=[], code_sha256=str(meta["code_sha256"]),
                             policy_digest=policy.digest, code=code)
    return ChildJob(compiled=compiled, policy=policy, limits=limits, timeout_s=float(meta["timeout_s"]),
                    rng_seed=meta.get("rng_seed"), want_delta=bool(meta.get("want_delta")),
                    result_cap=int(meta["result_cap"]), sync=meta.get("sync"), live=bool(meta.get("live")))


def encode_job(meta: dict[str, Any], code: bytes) -> bytes:
    """The server's side of `read_job`."""
    body = json.dumps({**meta, "code_len": len(code)}).encode()
    return len(body).to_bytes(4, "big") + body + code


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _payload(job: ChildJob, report: Any, delta: dict[str, Any] | None, delta_error: dict[str, Any] | None,
             timings: dict[str, float]) -> bytes:
    out = {name: getattr(report, name, None) for name in REPORT_FIELDS}
    if delta_error is not None:
        limit = delta_error.pop("limit", None)
        out.update(status="failed", error=delta_error, value=None, limit=limit)
    body = {"report": out, "delta": delta, "timings": timings}
    # errors="replace": a lone surrogate in output or a value must not cost the whole result
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=lambda _o: None).encode(
        "utf-8", "replace")
    if len(data) > job.result_cap:
        out.update(status="failed", value=None, limit="result",
                   error={"type": "ResultTooLarge", "line": None,
                          "message": "the job's result and scene delta exceed the cap"})
        out["stdout"] = (out.get("stdout") or "")[:4096]
        data = json.dumps({"report": out, "delta": None}, ensure_ascii=False).encode("utf-8", "replace")
    return data


def run_child(setup: ChildSetup, cmd_fd: int, result_fd: int, err_fd: int, live_fd: int = -1) -> NoReturn:
    """Never returns: isolates, (warms up,) reads one job, runs it, writes one JSON document, exits.

    `live_fd`: the write end of the live-output pipe (kitgate.sandbox.live), used when the job asks."""
    gc.freeze()  # O(1): what the server allocated since its last freeze_heap() is never walked here either
    try:
        _isolate(setup, cmd_fd, result_fd, err_fd, live_fd)
    except BaseException:
        os._exit(EXIT_SETUP_FAILED)
    isolated = resource.getrusage(resource.RUSAGE_SELF)
    if setup.warm_policy is not None:
        _warm(setup, cmd_fd)
    waited = run_delay_ms()  # from here: waking up for the job, and any wait for a CPU during it
    try:
        job = read_job(setup, cmd_fd)
    except BaseException:
        os._exit(EXIT_SETUP_FAILED)
    if job is None:
        os._exit(EXIT_NO_JOB)
    os.close(cmd_fd)
    if live_fd >= 0 and not job.live:
        os.close(live_fd)  # not watched: the job's code never sees an fd it has no use for
        live_fd = -1
    u0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    try:
        from kitgate.sandbox.delta import Delta, DeltaError, DeltaTooLarge, build_delta
        from kitgate.sandbox.runtime.hooks import run_guarded

        stage, layer = setup.stage, setup.layer
        if job.sync is not None:
            Delta.from_wire(job.sync).apply_to(layer)  # before the recorder: not part of this job's delta
        recorder = _recorder(setup, job)
        live = pipe = None
        if job.live and live_fd >= 0:
            from kitgate.sandbox.live import PipeWriter, ThrottledText

            pipe = PipeWriter(live_fd)
            live = ThrottledText(pipe)
        t1 = time.perf_counter()
        report = run_guarded(job.compiled, job.policy, stage, deadline=time.monotonic() + job.timeout_s,
                             rng_seed=job.rng_seed, live=live)
        if pipe is not None:
            pipe.close()  # EOF on the live pipe before the result: the server forwards it all first
        t2 = time.perf_counter()
        delta = delta_error = None
        if recorder is not None:
            recorder.stop()
            if getattr(report, "status", None) == "succeeded" and not recorder.unchanged():
                try:
                    delta = build_delta(recorder)
                except DeltaError as exc:
                    delta_error = {"type": type(exc).__name__, "message": str(exc)[:2000], "line": None}
                    if isinstance(exc, DeltaTooLarge):
                        delta_error["limit"] = "result"
                except (RecursionError, RuntimeError) as exc:  # pxr (Tf.ErrorException) in export/trial compose
                    delta_error = {"type": "DeltaRejected", "line": None,
                                   "message": "the job's scene changes cannot be carried back to the host "
                                              f"({type(exc).__name__}: {str(exc).strip()[:300]}); "
                                              "simplify the edit (shallower nesting, fewer arcs)"}
        u1 = resource.getrusage(resource.RUSAGE_SELF)
        timings = {"setup_ms": (t1 - t0) * 1000, "run_ms": (t2 - t1) * 1000,
                   "delta_ms": (time.perf_counter() - t2) * 1000,
                   "cpu_ms": (u1.ru_utime + u1.ru_stime - u0.ru_utime - u0.ru_stime) * 1000,
                   "minflt": float(u1.ru_minflt - u0.ru_minflt),
                   "prejob_cpu_ms": (u0.ru_utime + u0.ru_stime) * 1000,
                   "isolate_cpu_ms": (isolated.ru_utime + isolated.ru_stime) * 1000,
                   "wait_ms": run_delay_ms() - waited}
        data = _payload(job, report, delta, delta_error, timings)
        _write_all(result_fd, len(data).to_bytes(8, "big") + data)
        os.close(result_fd)  # EOF now, before the exit teardown: the server replies without waiting
    except MemoryError:
        try:
            os.write(2, b"\nMemoryError\n")
        finally:
            os._exit(EXIT_RESULT_FAILED)
    except BaseException:
        try:
            traceback.print_exc(limit=3, file=sys.stderr)
            sys.stderr.flush()
        finally:
            os._exit(EXIT_RESULT_FAILED)
    os._exit(EXIT_OK)
