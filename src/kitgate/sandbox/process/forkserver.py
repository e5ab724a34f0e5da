"""Warm fork server: a fresh, single-threaded interpreter that forks one disposable child per job.

WHY: a cold interpreter with pxr costs ~160-240 ms; a fork of a process that already imported pxr and
the sandbox costs a few ms. The server is started by the Executor as
`python -I -c <bootstrap> <socket fd> <scratch root>` with a scrubbed environment (the host's sys.path
arrives as the first frame on the socket, not as an argument), so
nothing of the host process (threads, Kit state, secrets in the environment, open files) is inherited.

Pre-forking: while idle, the server keeps one *spare* child, forked from its current scene copy and
already isolated (own session, stdio and fds closed, scratch cwd, scrubbed env, file/fd/core/nproc
limits), which, if no job comes within 50 ms, warms the runtime's hot path (one tiny fixed script on
its copy of a scratch stage) and then blocks on its command pipe. A job is handed to the spare only if
the spare's copy of the scene is the
job's scene, or the job's scene is that copy plus the delta the host applied after the previous job
(the "sync", which the child then applies to its copy first), and if the spare holds the job's policy;
otherwise the spare is killed and a fresh child is forked. The job's CPU and address-space limits are
set in the child before the job's code object exists there. Every child runs at most one job and is
killed after it, so the fork, the isolation and most copy-on-write faults leave the job's critical
path without any child being reused.

What each fork copies is kept small (BENCHMARKS.md, "Isolated path: worker CPU per job"): numpy only
once a job imports it (`preload`), the warm heap frozen once (`freeze_heap`), the change recorder and
the resolver's search path set up here once, not in every child.

Protocol (one Unix stream socket, one job at a time): frames are a 4-byte big-endian length + bytes.
Request: one JSON frame, `op` = "run" (answered by a JSON "started" frame right after the job was
handed to a child, before which a lost server means the job never ran and may be retried; one JSON
header frame; one raw frame with the child's untrusted result bytes, parsed by the parent only), or
`op` = "ping".
A "run" the server cannot serve from what it has (a policy or a scene it does not hold) is answered
with `need` in the header before anything ran; the host then resends it in full.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import hashlib
import importlib.util
import json
import marshal
import os
import select
import selectors
import shutil
import signal
import socket
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_REQUEST_BYTES = 1024 * 1024 * 1024
STDERR_KEEP = 8 * 1024  # native stderr kept for the report
STDERR_FLOOD = 1024 * 1024  # native stderr beyond this kills the child ("output")
DISPATCH_TIMEOUT_S = 10.0  # writing the job to a child's command pipe
CHILD_ENV_KEYS = ("PATH", "LANG", "LC_ALL", "PXR_WORK_THREAD_LIMIT")
CODE_MAGIC = importlib.util.MAGIC_NUMBER.hex()  # marshalled code is only taken from the same Python
# Fixed scripts (ours, not a job's) run once per policy in the server to warm the runtime's caches,
# and again in each spare child to take its copy-on-write faults before the job arrives.
# Each is tried separately: a policy that refuses one part still gets the rest warmed.
WARM_SCRIPTS = (
    "from pxr import Usd, UsdGeom, Sdf, Gf\n"
    "xf = UsdGeom.Xform.Define(stage, '/W')\n"
    "c = UsdGeom.Cube.Define(stage, '/W/C')\n"
    "c.CreateSizeAttr(2.0)\n"
    "c.AddTranslateOp().Set(Gf.Vec3d(1, 2, 3))\n"
    "p = stage.GetPrimAtPath('/W/C')\n"
    "a = p.GetAttribute('size')\n"
    "a.Set(3.0, 1)\n"
    "n = len(list(stage.Traverse()))\n"
    "print(n, p.GetPath(), Sdf.Path('/W').AppendChild('X'))\n"
    "result = {'n': n}\n",
    "from pxr import UsdShade, UsdLux\n"
    "m = UsdShade.Material.Define(stage, '/Mat')\n"
    "l = UsdLux.DistantLight.Define(stage, '/Light')\n",
    "from pxr import UsdGeom, Vt\n"
    "mesh = UsdGeom.Mesh.Define(stage, '/Mesh')\n"
    "mesh.CreatePointsAttr(Vt.Vec3fArray([(0, 0, 0), (1, 0, 0), (0, 1, 0)]))\n",
)
# numpy is loaded into the server only once a job needs it (the request's `preload`, which the host derives
# from the job's code), then warmed under every policy the server holds. WHY not always: its import costs
# ~100 ms once, but its mappings and heap cost every fork (page tables to copy, then to tear down when the
# child exits): ~1.3 ms of CPU per job on a 2-core VM, for every job of a worker that never uses numpy.
# Loaded here, with one BLAS thread (numpy_surface.import_numpy), never inside a job's limits: a job that
# triggers the load runs in a fresh child forked after it.
NUMPY_WARM_SCRIPT = (
    "import numpy as np\n"
    "from pxr import Vt\n"
    "a = np.linspace(0, 1, 6).reshape(2, 3)\n"
    "print(a.sum(), np.linalg.norm(a[0]), Vt.Vec3fArray.FromNumpy(a.astype(np.float32)))\n"
)
PRELOADABLE = frozenset({"numpy"})
# What a spare child runs while it waits, on its copy of a small stage the server keeps for this (never
# the job's): the path every job takes (globals and hooks built, the script run, its result converted),
# so that its copy-on-write faults are taken before the job arrives. Deliberately tiny, and only run
# when no job came within child.WARM_DELAY_S: a warm-up costs more CPU than it saves (this one ~1.5 ms
# to save ~0.8 ms; the pxr-heavy one it replaced ~4 ms to save ~1 ms), so it only pays on an idle host;
# see BENCHMARKS.md, "Isolated path: worker CPU per job".
SPARE_WARM_SCRIPTS = (
    "result = [len('warm'), str(stage.GetPseudoRoot().GetPath())]\n",
)
_HDR = struct.Struct(">I")


# ------------------------------------------------------------------------------------------ framing


def send_frame(sock: socket.socket, data: bytes) -> None:
    sock.sendall(_HDR.pack(len(data)) + data if len(data) < 65536 else _HDR.pack(len(data)))
    if len(data) >= 65536:
        sock.sendall(data)


def recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def recv_frame(sock: socket.socket, max_bytes: int) -> bytes | None:
    head = recv_exact(sock, _HDR.size)
    if head is None:
        return None
    (size,) = _HDR.unpack(head)
    if size > max_bytes:
        raise ValueError(f"frame of {size} bytes exceeds {max_bytes}")
    return recv_exact(sock, size)


# ------------------------------------------------------------------------------------------- server


class _Need(Exception):
    """The request relies on state this server does not hold (reply `need`, nothing ran)."""


@dataclass
class _Child:
    pid: int
    cmd_w: int
    r_res: int
    r_err: int
    scratch: str
    ident: str | None  # the scene copy it was forked from: identifier and content ids
    aliases: frozenset[str]
    policy_keys: frozenset[Any]
    spare: bool
    fork_ms: float
    r_live: int = -1  # the child's live-output pipe (printed text while the job runs; untrusted bytes)


class ForkServer:
    """Runs in the server process. Single-threaded by construction: never start a thread here."""

    def __init__(self, sock: socket.socket, scratch_root: Path) -> None:
        self.sock = sock
        self.scratch_root = scratch_root
        self._policies: dict[tuple[str, str, str], Any] = {}
        self._last_policy: tuple[str, str, str] | None = None
        # The scene copy: one composed stage and the content ids known to describe it exactly
        # ("sha256:<hex>" of the host's text, or the host's token for "previous content + sync delta").
        self._snapshot: tuple[Any, Any] | None = None
        self._ident: str | None = None
        self._aliases: set[str] = set()
        self._key = ""  # the content id the current job's copy was matched under
        self._spare: _Child | None = None
        self._zombies: list[tuple[int, str]] = []  # killed children to reap (and their scratch dirs)
        self.last_snapshot = ""  # "hit" | "synced" | "rebuilt", reported to the host for measurements
        self._acked = False
        self._numpy = False  # numpy imported and warmed here (see NUMPY_WARM_SCRIPT)
        self._recorder: tuple[Any, Any] | None = None  # (scene copy's stage, a pristine ChangeRecorder on it)
        self._warm_stage: Any = None  # the stage spare children warm up on (each edits only its own copy)

    def warm(self) -> None:
        """Import and exercise the hot paths once so every child starts with them paged in (COW)."""
        from pxr import Gf, Sdf, Usd, UsdGeom, UsdLux, UsdShade

        from kitgate.sandbox.compile import compiler  # noqa: F401
        from kitgate.sandbox.delta import ChangeRecorder, build_delta
        from kitgate.sandbox.process.child import read_job  # noqa: F401
        from kitgate.sandbox.process.rlimits import prepare
        from kitgate.sandbox.runtime import hooks  # noqa: F401

        prepare()
        _clear_search_path()  # once here: every child inherits the resolver's (empty) search path
        stage = Usd.Stage.CreateInMemory()  # loads the schema registry and plugins once
        UsdGeom.Xform.Define(stage, "/W")
        UsdGeom.Cube.Define(stage, "/W/C").AddTranslateOp().Set(Gf.Vec3d(1, 2, 3))
        UsdGeom.Mesh.Define(stage, "/W/M")
        UsdShade.Material.Define(stage, "/W/Mat")
        UsdLux.DistantLight.Define(stage, "/W/L")
        recorder = ChangeRecorder(stage, stage.GetRootLayer())
        stage.DefinePrim("/Warm", "Xform").CreateAttribute("a", Sdf.ValueTypeNames.Float).Set(1.0)
        build_delta(recorder)

    # ---------------------------------------------------------------------------- policies, code

    def _policy(self, spec: dict[str, Any]) -> tuple[tuple[str, str, str], Any]:
        """Rebuild the parent's Policy from its TOML text (same digest) with the parent's resolved roots.
        The host sends the text only until this server holds the policy."""
        import dataclasses

        from kitgate.sandbox.policy import parse_policy

        roots = tuple(str(r) for r in spec.get("asset_roots", ()))
        key = (str(spec["name"]), str(spec["digest"]), "\0".join(roots))
        policy = self._policies.get(key)
        if policy is None:
            if not isinstance(spec.get("source"), str):
                raise _Need("policy")
            policy = parse_policy(spec["source"].encode("utf-8"), expected_name=spec["name"], asset_base=None)
            if policy.digest != spec["digest"]:
                raise ValueError("policy text does not match its digest")
            policy = dataclasses.replace(policy, asset_roots=roots)
            if len(self._policies) > 32:
                self._policies.clear()
            self._policies[key] = policy
            self._warm_policy(policy)
            freeze_heap()
        return key, policy

    def _warm_policy(self, policy: Any) -> None:
        """Run a fixed, trusted script under the policy once, here, so the runtime's per-policy caches
        (import proxies, attribute decisions) are filled before fork and every child inherits them."""
        from pxr import Usd

        from kitgate.sandbox.compile.compiler import compile_source
        from kitgate.sandbox.runtime.hooks import run_guarded

        numpy = (NUMPY_WARM_SCRIPT,) if self._numpy else ()
        for source in (*WARM_SCRIPTS, *numpy, *SPARE_WARM_SCRIPTS):  # spares find theirs in the compile cache
            compiled = compile_source(source, policy)
            if compiled.ok:
                run_guarded(compiled, policy, Usd.Stage.CreateInMemory(), deadline=time.monotonic() + 5.0)

    def _preload(self, req: dict[str, Any]) -> None:
        """Load what the job's code imports and the server does not hold yet (numpy), before its child is
        chosen: the spare forked without it is discarded, so the job runs in a fresh child that has it."""
        wanted = req.get("preload")
        if self._numpy or not isinstance(wanted, list) or "numpy" not in wanted:
            return
        from pxr import Usd

        from kitgate.sandbox.compile.compiler import compile_source
        from kitgate.sandbox.runtime.hooks import run_guarded
        from kitgate.sandbox.runtime.numpy_surface import import_numpy

        import_numpy()
        self._numpy = True
        for policy in self._policies.values():
            compiled = compile_source(NUMPY_WARM_SCRIPT, policy)
            if compiled.ok:
                run_guarded(compiled, policy, Usd.Stage.CreateInMemory(), deadline=time.monotonic() + 5.0)
        freeze_heap()
        if self._spare is not None:
            self._discard(self._spare)
            self._spare = None

    @staticmethod
    def _code(req: dict[str, Any], policy: Any) -> tuple[bytes, str] | None:
        """The job's code object, marshalled. The host (trusted: it started this server) compiled it
        under the same policy; only when its Python differs is the source compiled again here."""
        code = req.get("code")
        if isinstance(code, dict) and code.get("magic") == CODE_MAGIC and isinstance(code.get("data"), str):
            return base64.b64decode(code["data"]), str(code.get("sha256", ""))
        from kitgate.sandbox.compile.compiler import compile_source

        compiled = compile_source(req["source"], policy)
        if not compiled.ok or compiled.code is None:
            return None
        return marshal.dumps(compiled.code), compiled.code_sha256

    # ------------------------------------------------------------------------------- scene copy

    def _stage(self, snapshot: dict[str, Any], sync: dict[str, Any] | None) -> dict[str, Any] | None:
        """Bring the scene copy to the job's scene; return the sync delta a spare forked from the
        previous copy must apply first (None: the job's scene is the copy as it was).

        Children inherit the composed stage through fork, so a job on an unchanged scene pays neither
        the parse nor the composition, and a job after a small edit pays only for the edit.
        `ref`: the host says its layer did not change (it counts the layer's change notices) since it
        last sent it, or since it applied the delta of `sync` to it; the copy must be known under
        `ref`, or be known under the sync's `base` (then `ref` is the sync's `key`).
        `text`: the layer's content. Served from the copy if its sha256 is a known id, or if the copy
        plus the sync delta exports to exactly that text; otherwise parsed and composed ("rebuilt").
        """
        from kitgate.sandbox.process.child import open_snapshot

        ident = "<anonymous>" if snapshot.get("anonymous") else str(snapshot["identifier"])
        same = self._snapshot is not None and ident == self._ident
        syncable = same and isinstance(sync, dict) and sync.get("base") in self._aliases \
            and isinstance(sync.get("key"), str)
        if "ref" in snapshot:
            ref = str(snapshot["ref"])
            if same and ref in self._aliases:
                self.last_snapshot, self._key = "hit", ref
                return None
            if syncable and sync is not None and sync["key"] == ref:
                self.last_snapshot, self._key = "synced", ref
                return sync  # the server's own copy follows in run_job (`_apply_sync`)
            raise _Need("snapshot")
        text = snapshot["text"]
        sha = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
        self._key = sha
        if same and sha in self._aliases:
            self.last_snapshot = "hit"
            return None
        if syncable and sync is not None and self._apply_sync(sync):
            assert self._snapshot is not None
            if "sha256:" + hashlib.sha256(self._snapshot[1].ExportToString().encode()).hexdigest() == sha:
                self._aliases.add(sha)
                self.last_snapshot = "synced"
                return sync
        self.last_snapshot = "rebuilt"
        self._release_copy()  # release the old layer first: its identifier may be reused
        self._ident, self._aliases = None, set()
        self._snapshot = open_snapshot(snapshot)
        self._ident, self._aliases = ident, {sha}
        return None

    def _apply_sync(self, sync: dict[str, Any]) -> bool:
        """Apply the delta the host applied to its layer (which matched copy `base`) to the copy, now
        known as `key`. Any failure drops the copy (the next job then rebuilds it)."""
        from kitgate.sandbox.delta import Delta

        if self._snapshot is None or sync.get("base") not in self._aliases:
            return False
        self._aliases = set()
        try:
            Delta.from_wire(sync.get("delta")).apply_to(self._snapshot[1])
        except Exception:
            self._release_copy()
            self._ident = None
            return False
        self._aliases = {str(sync["key"])}
        return True

    # ----------------------------------------------------------------------------------- children

    def _fork_child(self, spare: bool) -> _Child:
        from kitgate.sandbox.process.child import ChildSetup, run_child

        assert self._snapshot is not None
        stage, layer = self._snapshot
        # The child creates this directory itself (child._private_cwd), off the job's path when it is a spare.
        scratch = os.path.join(self.scratch_root, "job-" + os.urandom(8).hex())
        env = {k: v for k, v in os.environ.items() if k in CHILD_ENV_KEYS}
        env.update(HOME=scratch, TMPDIR=scratch)
        warm_policy = self._policies.get(self._last_policy) if spare and self._last_policy else None
        if warm_policy is not None and self._warm_stage is None:
            from pxr import Usd

            self._warm_stage = Usd.Stage.CreateInMemory()
        setup = ChildSetup(stage=stage, layer=layer, policies=self._policies, scratch=scratch, env=env,
                           server_pid=os.getpid(), warm_policy=warm_policy, warm_scripts=SPARE_WARM_SCRIPTS,
                           recorder=self._pristine_recorder(stage, layer), warm_stage=self._warm_stage)
        r_res, w_res = os.pipe()
        r_err, w_err = os.pipe()
        r_cmd, w_cmd = os.pipe()
        r_live, w_live = os.pipe()
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # child
            try:
                os.close(r_res)
                os.close(r_err)
                os.close(w_cmd)
                os.close(r_live)
                run_child(setup, r_cmd, w_res, w_err, w_live)
            finally:
                os._exit(70)
        fork_ms = (time.perf_counter() - t0) * 1000
        os.close(w_res)
        os.close(w_err)
        os.close(r_cmd)
        os.close(w_live)
        os.set_blocking(r_err, False)
        os.set_blocking(r_live, False)
        return _Child(pid, w_cmd, r_res, r_err, scratch, self._ident, frozenset(self._aliases),
                      frozenset(self._policies), spare, fork_ms, r_live)

    def _release_copy(self) -> None:
        """Drop the scene copy and everything holding its layer (the recorder keeps it alive otherwise,
        and then the next copy of a file layer could not take that layer's identifier)."""
        if self._recorder is not None:
            self._recorder[1].stop()
            self._recorder = None
        self._snapshot = None

    def _pristine_recorder(self, stage: Any, layer: Any) -> Any:
        """A change recorder on the scene copy that has seen no change, built once per copy and inherited
        by every child forked from it: a job on an unchanged scene starts recording without building one.
        Any change to the copy here (a sync delta) leaves a notice in it, so it is rebuilt, and a child
        checks the same before using it (child._recorder)."""
        from kitgate.sandbox.delta import ChangeRecorder

        held = self._recorder
        if held is not None and held[0] is stage and held[1].pristine():
            return held[1]
        if held is not None:
            held[1].stop()
        self._recorder = (stage, ChangeRecorder(stage, layer))
        return self._recorder[1]

    def _close_fds(self, child: _Child) -> None:
        for fd in (child.cmd_w, child.r_res, child.r_err, child.r_live):
            if fd < 0:
                continue
            with contextlib.suppress(OSError):
                os.close(fd)
        child.cmd_w = child.r_res = child.r_err = child.r_live = -1

    def _discard(self, child: _Child) -> None:
        """Kill an unused or finished child; it is reaped later, off the job's path."""
        _kill_group(child.pid)
        self._close_fds(child)
        self._zombies.append((child.pid, child.scratch))

    def _reap(self, block: bool = False) -> None:
        keep = []
        for pid, scratch in self._zombies:
            try:
                done, _status = os.waitpid(pid, 0 if block else os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                _remove_scratch(scratch)
            else:
                keep.append((pid, scratch))
        self._zombies = keep

    def _spare_matches(self, child: _Child) -> bool:
        return child.ident == self._ident and bool(child.aliases & self._aliases)

    def _ensure_spare(self) -> None:
        """Between jobs: have a spare child ready for the next job on the current scene copy."""
        if self._spare is not None and not self._spare_matches(self._spare):
            self._discard(self._spare)
            self._spare = None
        if self._spare is None and self._snapshot is not None and self._last_policy is not None:
            self._spare = self._fork_child(spare=True)

    def _take_spare(self, policy_key: Any, content: str, sync: dict[str, Any] | None) -> tuple[_Child | None, bool]:
        """The spare, if it can run this job, and whether it must apply the sync delta first."""
        spare, self._spare = self._spare, None
        if spare is None:
            return None, False
        needs_sync = content not in spare.aliases
        usable = spare.ident == self._ident and policy_key in spare.policy_keys and (
            not needs_sync or (sync is not None and sync.get("base") in spare.aliases))
        if usable:
            with contextlib.suppress(ChildProcessError):
                usable = os.waitpid(spare.pid, os.WNOHANG)[0] == 0  # still waiting for a job
        if usable:
            return spare, needs_sync
        self._discard(spare)
        return None, False

    def _dispatch(self, child: _Child, job: bytes) -> None:
        """Write the job to the child's command pipe (draining its stderr meanwhile), then close it."""
        with contextlib.suppress(OSError):
            while os.read(child.r_err, 65536):  # a spare's own warm-up noise is not the job's output
                pass
        view = memoryview(job)
        if len(job) <= select.PIPE_BUF:  # the usual small job: the empty pipe holds it, this write cannot block
            view = view[os.write(child.cmd_w, view):]
        if view:
            _write_while_draining(child.cmd_w, child.r_err, view)
        os.close(child.cmd_w)
        child.cmd_w = -1

    # -------------------------------------------------------------------------------------- loop

    def serve(self) -> None:
        try:
            while True:
                self._reap()
                self._ensure_spare()
                raw = recv_frame(self.sock, MAX_REQUEST_BYTES)
                if raw is None:
                    return  # parent went away
                request = json.loads(raw)
                op = request.get("op")
                if op == "ping":
                    send_frame(self.sock, json.dumps({"ok": True, "pid": os.getpid()}).encode())
                    continue
                self._acked = False
                try:
                    header, result = self.run_job(request)
                except _Need as need:
                    header, result = {"ok": False, "need": str(need), "error": f"server lacks the {need}"}, b""
                except Exception as exc:  # server-side failure (bad policy...), not the job's
                    header, result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:2000]}, b""
                if not self._acked:  # exactly one "started" frame per request keeps the stream in step
                    send_frame(self.sock, json.dumps({"started": None}).encode())
                if header.get("parent_gone"):
                    return
                send_frame(self.sock, json.dumps(header).encode())
                send_frame(self.sock, result)
        finally:
            if self._spare is not None:
                self._discard(self._spare)
                self._spare = None
            self._reap(block=True)

    def run_job(self, req: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        from kitgate.sandbox.process.child import encode_job
        from kitgate.sandbox.process.procstat import run_delay_ms

        cpu0 = time.process_time()
        wait0 = run_delay_ms()
        t0 = time.perf_counter()
        policy_key, policy = self._policy(req["policy"])
        self._preload(req)
        sync = req.get("sync") if isinstance(req.get("sync"), dict) else None
        sync = self._stage(req["snapshot"], sync)
        content = self._key
        code = self._code(req, policy)
        if code is None:
            return {"ok": False, "error": "source does not compile under the policy"}, b""
        self._last_policy = policy_key
        meta = {"policy_key": list(policy_key), "code_sha256": code[1], "timeout_s": float(req["timeout_s"]),
                "cpu_s": int(req["cpu_s"]), "memory_mb": int(req["memory_mb"]), "rng_seed": req.get("rng_seed"),
                "want_delta": bool(req.get("want_delta")), "result_cap": int(req["result_cap"]),
                "live": bool(req.get("live"))}
        t1 = time.perf_counter()
        child, child_sync = self._take_spare(policy_key, content, sync)
        follow = sync is not None and content not in self._aliases  # ref path: the server's copy follows
        if follow and child is None:
            if sync is None or not self._apply_sync(sync):
                raise RuntimeError("the scene copy could not follow the host's delta")
            follow = False
        if child is None:
            child = self._fork_child(spare=False)
        if not (content in child.aliases or (child_sync and sync is not None and sync.get("base") in child.aliases)):
            self._discard(child)  # never hand a job to a copy that is not its scene
            raise RuntimeError("scene copy out of step")
        job = encode_job({**meta, "sync": sync["delta"] if child_sync and sync is not None else None}, code[0])
        t2 = time.perf_counter()
        try:
            self._dispatch(child, job)
        except (OSError, TimeoutError):
            self._discard(child)
            if follow and sync is not None:
                follow = not self._apply_sync(sync)
            if not child.spare or follow or self._snapshot is None or content not in self._aliases:
                raise
            child, child_sync = self._fork_child(spare=False), False  # a spare that died waiting
            job = encode_job({**meta, "sync": None}, code[0])
            self._dispatch(child, job)
        started = time.monotonic()
        t3 = time.perf_counter()
        try:
            send_frame(self.sock, json.dumps({"started": child.pid}).encode())  # from here on the job ran
            self._acked = True
            if follow and sync is not None:
                self._apply_sync(sync)  # while the spare applies the same delta to its own copy
            header, result = self._watch(child, req, started)
        except BaseException:
            self._discard(child)
            raise
        reaped = header.pop("reaped")
        self._close_fds(child)
        if reaped:
            _remove_scratch(child.scratch)
        else:
            self._zombies.append((child.pid, child.scratch))
        header["snapshot_key"] = [self._ident or "", content]
        header["snapshot"] = self.last_snapshot
        header["child"] = "spare" if child.spare else "fresh"
        header["child_sync"] = bool(child_sync)
        header["server_ms"] = {"prepare": (t1 - t0) * 1000, "fork": (t2 - t1) * 1000,
                               "dispatch": (t3 - t2) * 1000, "child": (time.perf_counter() - t3) * 1000,
                               "cpu": (time.process_time() - cpu0) * 1000, "wait": run_delay_ms() - wait0,
                               "spare_fork": child.fork_ms}
        return header, result

    def _watch(self, child: _Child, req: dict[str, Any], started: float) -> tuple[dict, bytes]:
        """Collect the child's result and stderr with caps; kill it on wall clock or flood."""
        pid = child.pid
        timeout_s = float(req["timeout_s"])
        hard_deadline = started + timeout_s + max(0.5, 0.1 * timeout_s)
        result_cap = int(req["result_cap"])
        result = bytearray()
        err = bytearray()
        err_total = 0
        killed: str | None = None
        parent_gone = False
        sel = selectors.DefaultSelector()
        sel.register(child.r_res, selectors.EVENT_READ, "res")
        sel.register(child.r_err, selectors.EVENT_READ, "err")
        sel.register(self.sock, selectors.EVENT_READ, "sock")
        live = _LiveForward(self.sock, child.r_live, result_cap) if req.get("live") and child.r_live >= 0 else None
        if live is not None:
            sel.register(child.r_live, selectors.EVENT_READ, "live")
        open_pipes = 2
        complete = False
        while open_pipes and not complete:
            remaining = hard_deadline - time.monotonic()
            if remaining <= 0:
                killed = "timeout"
                break
            for key, _ in sel.select(remaining):
                if key.data == "sock":  # the parent never writes during a job: EOF or misuse
                    parent_gone = True
                    break
                if key.data == "live":
                    if live is not None and not live.pump():
                        sel.unregister(key.fd)
                    continue
                try:
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    sel.unregister(key.fd)
                    open_pipes -= 1
                    if key.data == "res":
                        complete = _framed_complete(result)
                elif key.data == "res":
                    result += chunk
                    if len(result) > result_cap + 8:
                        killed = "result"
                    elif _framed_complete(result):
                        complete = True  # all bytes are in; the child closes the pipe right after
                else:
                    err_total += len(chunk)
                    if len(err) < STDERR_KEEP:
                        err += chunk[: STDERR_KEEP - len(err)]
                    if err_total > STDERR_FLOOD:
                        killed = "output"
            if killed or parent_gone:
                break
        sel.close()
        if live is not None and not parent_gone:
            live.pump()  # what the child flushed just before its result: live output precedes the header
        if complete and not killed and not parent_gone:
            # The child finished writing: it has nothing left to do but exit. Kill it now (a
            # compromised child cannot linger) and reap it later, off the job's path.
            _kill_group(pid)
            header = {"ok": True, "parent_gone": False, "killed": None, "complete": True, "exit_code": None,
                      "signal": None, "cpu_s": None, "wall_s": time.monotonic() - started,
                      "stderr": err.decode("utf-8", "replace"), "stderr_bytes": err_total, "reaped": False}
            return header, bytes(result[8:])
        if killed or parent_gone:
            _kill_group(pid)
        status, rusage = _reap(pid, hard_deadline)
        _kill_group(pid)  # stray grandchildren (only possible where RLIMIT_NPROC does not apply)
        header = {
            "ok": True,
            "parent_gone": parent_gone,
            "killed": killed,
            "complete": False,
            "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "cpu_s": rusage.ru_utime + rusage.ru_stime,
            "wall_s": time.monotonic() - started,
            "stderr": err.decode("utf-8", "replace"),
            "stderr_bytes": err_total,
            "reaped": True,
        }
        return header, b""


class _LiveForward:
    """Child live pipe -> {"live": text} frames on the parent socket, between "started" and the header.

    The bytes are the job's (untrusted) printed text: decoded leniently, never parsed, and capped at
    `cap` bytes per job (a well-behaved child sends at most the policy's output cap); past the cap the
    pipe is still drained so the child is never held up, but nothing more is sent."""

    def __init__(self, sock: socket.socket, fd: int, cap: int) -> None:
        import codecs

        self.sock, self.fd, self.left = sock, fd, cap
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def pump(self) -> bool:
        """Forward what can be read now; False at EOF (or on a read error)."""
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not chunk:
                return False
            chunk = chunk[: max(0, self.left)]
            self.left -= len(chunk)
            text = self.decoder.decode(chunk)
            if text:
                send_frame(self.sock, json.dumps({"live": text}).encode())


def _write_while_draining(fd: int, r_err: int, view: memoryview) -> None:
    """Write a large job to the child's command pipe, reading its stderr meanwhile so it never blocks."""
    deadline = time.monotonic() + DISPATCH_TIMEOUT_S
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_WRITE, "cmd")
        sel.register(r_err, selectors.EVENT_READ, "err")
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the job child did not take its job")
            for key, _ in sel.select(remaining):
                if key.data == "err":
                    with contextlib.suppress(BlockingIOError):
                        if not os.read(r_err, 65536):
                            sel.unregister(r_err)
                elif view:
                    with contextlib.suppress(BlockingIOError):
                        view = view[os.write(fd, view[: 1 << 16]):]


def _remove_scratch(path: str) -> None:
    """Remove a finished child's directory: one rmdir, as a child cannot write into it (0500, empty);
    the full tree walk only if a compromised child made it writable and left something behind."""
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass  # the child died before creating it
    except OSError:
        shutil.rmtree(path, ignore_errors=True)


def freeze_heap() -> None:
    """Move the warm heap (modules, pxr wrappers, policies, caches) out of the collector's reach, once
    after each warm-up. WHY: a collection writes to the header of every object it walks; after a fork
    that is a copy-on-write fault per page, in the server (whose pages its spare child shares) and in
    a child. Frozen objects are never walked again; what the server allocates later is collected as
    usual. Collect first so no garbage is frozen. Never unfrozen: that would put the whole heap back."""
    gc.collect()
    gc.freeze()


def _clear_search_path() -> None:
    """No resolver search path in the server, hence in every child (see child._private_cwd)."""
    try:
        from pxr import Ar

        Ar.DefaultResolver.SetDefaultSearchPath([])
    except Exception:  # noqa: S110 - a resolver without the default implementation has no search path to clear
        pass


def _framed_complete(buf: bytearray) -> bool:
    """The child writes an 8-byte length, then the JSON: complete only if every byte arrived."""
    return len(buf) >= 8 and int.from_bytes(buf[:8], "big") == len(buf) - 8


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def _reap(pid: int, deadline: float) -> tuple[int, Any]:
    """Wait for the child; a child that closed its pipes but lingers is killed at the deadline."""
    while True:
        done, status, rusage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, rusage
        if time.monotonic() > deadline:
            _kill_group(pid)
            _done, status, rusage = os.wait4(pid, 0)
            return status, rusage
        time.sleep(0.0005)


def main(argv: list[str] | None = None, sock: socket.socket | None = None) -> None:
    """Entry point inside the fresh interpreter: argv = [socket fd, scratch root]; `sock` is that fd's
    socket when the bootstrap already read the host's sys.path frame from it."""
    args = sys.argv[1:] if argv is None else argv
    sock = sock if sock is not None else socket.socket(fileno=int(args[0]))
    scratch_root = Path(args[1])
    scratch_root.mkdir(mode=0o700, parents=True, exist_ok=True)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the host's Ctrl-C is the Executor's business
    server = ForkServer(sock, scratch_root)
    server.warm()
    freeze_heap()
    send_frame(sock, json.dumps({"ok": True, "ready": True, "pid": os.getpid()}).encode())
    server.serve()
