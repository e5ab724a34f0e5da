"""Scene-copy reuse and pre-forked children in isolated mode: faster, never stale, never reused.

The executor skips exporting an unchanged large edit-target layer (it counts the layer's change
notices), the fork server brings its scene copy along with the delta the host applied, and a spare
child forked between jobs runs the next job. Each of these must be invisible in results: every job
sees exactly the host's scene at the time it was started, and no child ever runs two jobs.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pxr import Sdf, Usd, UsdGeom
from test_isolated_helpers import LOOK, alive, child_pids, plain_look, stage_from

from kitgate.sandbox.executor import Executor
from kitgate.sandbox.policy import load_policy
from kitgate.sandbox.process import snapshots as snapshots_mod
from kitgate.sandbox.process.forkserver import ForkServer, _Need

EDIT = 'stage.DefinePrim("/World/Job%d", "Sphere")\n'


def _base_text(extra_prims: int = 0) -> str:
    st = Usd.Stage.CreateInMemory()
    UsdGeom.Xform.Define(st, "/World")
    UsdGeom.Cube.Define(st, "/World/Cube").CreateSizeAttr(2.0)
    layer = st.GetRootLayer()
    with Sdf.ChangeBlock():
        for i in range(extra_prims):
            Sdf.CreatePrimInLayer(layer, f"/World/Filler{i}").specifier = Sdf.SpecifierDef
    return layer.ExportToString()


@pytest.fixture(scope="module")
def policy() -> Any:
    return load_policy("scene-edit")


@pytest.fixture()
def ex(tmp_path: Path):
    with Executor(scratch_root=tmp_path / "scratch") as executor:
        yield executor


@pytest.fixture()
def reuse_small(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take the notice-counting path for small scenes too (normally they are exported every job)."""
    monkeypatch.setattr(snapshots_mod, "SNAPSHOT_REUSE_MIN_BYTES", 0)


def _edit_define(st: Usd.Stage) -> None:
    st.DefinePrim("/World/Host", "Cone")


def _edit_set(st: Usd.Stage) -> None:
    st.GetPrimAtPath("/World/Cube").GetAttribute("size").Set(7.5)


def _edit_sdf_block(st: Usd.Stage) -> None:
    layer = st.GetRootLayer()
    with Sdf.ChangeBlock():
        spec = Sdf.CreatePrimInLayer(layer, "/World/SdfMade")
        spec.specifier = Sdf.SpecifierDef
        spec.typeName = "Cube"
        Sdf.AttributeSpec(spec, "size", Sdf.ValueTypeNames.Double).default = 4.0


def _edit_import(st: Usd.Stage) -> None:
    st.GetRootLayer().ImportFromString(_base_text().replace("2", "3"))


def _edit_clear(st: Usd.Stage) -> None:
    st.GetRootLayer().Clear()


def _edit_transfer(st: Usd.Stage) -> None:
    other = stage_from(_base_text())
    other.DefinePrim("/World/Transferred", "Cube")
    st.GetRootLayer().TransferContent(other.GetRootLayer())


def _edit_meta(st: Usd.Stage) -> None:
    st.SetEndTimeCode(99)


def _edit_remove(st: Usd.Stage) -> None:
    st.RemovePrim("/World/Cube")


HOST_EDITS: list[Callable[[Usd.Stage], None]] = [_edit_define, _edit_set, _edit_sdf_block, _edit_import, _edit_clear,
                                                 _edit_transfer, _edit_meta, _edit_remove]


@pytest.mark.parametrize("host_edit", HOST_EDITS, ids=lambda f: f.__name__)
def test_a_host_edit_between_jobs_is_always_seen(ex: Executor, policy: Any, reuse_small: None,
                                                 host_edit: Callable[[Usd.Stage], None]) -> None:
    st = stage_from(_base_text())
    for i in range(2):  # job 2 runs on the reused copy: the path under test
        assert ex.run(EDIT % i, policy, st).status == "succeeded"
    out = ex.run(LOOK, policy, st)
    assert out.status == "succeeded", out.error
    assert out.timings["snapshot_reused"] == 1.0  # the mechanism is really exercised here
    assert out.value == plain_look(st)
    assert ex.run(EDIT % 2, policy, st).timings["snapshot_reused"] == 1.0  # still trusted after a no-op job
    host_edit(st)  # right after a job whose delta the server followed: the copy is trusted until now
    out = ex.run(LOOK, policy, st)
    assert out.status == "succeeded", out.error
    assert out.timings["snapshot_reused"] == 0.0
    assert out.value == plain_look(st)
    out = ex.run(EDIT % 9, policy, st)  # and the job after it edits the scene the host has now
    assert out.status == "succeeded", out.error
    plain = stage_from(_base_text())
    for i in range(3):
        exec(compile(EDIT % i, "<plain>", "exec"), {"stage": plain})  # noqa: S102
    host_edit(plain)
    exec(compile(EDIT % 9, "<plain>", "exec"), {"stage": plain})  # noqa: S102
    assert st.GetRootLayer().ExportToString() == plain.GetRootLayer().ExportToString()


def test_a_host_edit_between_execute_and_apply_is_kept(ex: Executor, policy: Any, reuse_small: None) -> None:
    st = stage_from(_base_text())
    ex.run(EDIT % 0, policy, st)
    outcome, delta = ex.execute(EDIT % 1, policy, st)
    assert outcome.status == "succeeded" and delta is not None
    _edit_set(st)  # the host edits while the job's delta waits to be applied
    delta.apply_to(st)
    ex.note_applied(delta)
    out = ex.run(LOOK, policy, st)
    assert out.timings["snapshot_reused"] == 0.0  # two changes since the snapshot: not trusted
    assert out.value == plain_look(st)
    paths = [p[0] for p in out.value["prims"]]
    assert "/World/Job0" in paths and "/World/Job1" in paths
    assert [p[2] for p in out.value["prims"] if p[0] == "/World/Cube"] == [7.5]


def test_another_layer_or_stage_is_never_served_from_the_copy(ex: Executor, policy: Any, reuse_small: None) -> None:
    st = stage_from(_base_text())
    ex.run(EDIT % 0, policy, st)
    ex.run(EDIT % 1, policy, st)
    # Same content, other layer object: a new layer is exported, never taken for the old one.
    twin = stage_from(st.GetRootLayer().ExportToString())
    twin.DefinePrim("/World/Twin")
    out = ex.run(LOOK, policy, twin)
    assert out.timings["snapshot_reused"] == 0.0 and out.value == plain_look(twin)
    # The host switches its edit target: the job sees (and edits) the new target layer.
    st.SetEditTarget(st.GetSessionLayer())
    st.DefinePrim("/World/InSession", "Cube")
    out, _delta = ex.execute('result = [bool(stage.GetPrimAtPath(p)) for p in ("/World/InSession", "/World/Cube")]\n',
                             policy, st)
    assert out.timings["snapshot_reused"] == 0.0
    assert out.value == [True, False]  # the session layer's content, not the root layer's


def test_a_reloaded_file_layer_is_seen(ex: Executor, policy: Any, reuse_small: None, tmp_path: Path) -> None:
    path = tmp_path / "scene.usda"
    path.write_text(_base_text())
    st = Usd.Stage.Open(str(path))
    ex.run(EDIT % 0, policy, st)
    ex.run(EDIT % 1, policy, st)
    path.write_text(_base_text().replace("2", "5"))  # changed on disk behind the host's back
    st.GetRootLayer().Reload(force=True)
    out = ex.run(LOOK, policy, st)
    assert out.timings["snapshot_reused"] == 0.0
    assert out.value == plain_look(st) and [p[2] for p in out.value["prims"] if p[0] == "/World/Cube"] == [5.0]


def test_large_layers_skip_the_export_and_stay_exact(ex: Executor, policy: Any) -> None:
    """At the real threshold: a layer above SNAPSHOT_REUSE_MIN_BYTES is not exported while unchanged."""
    st = stage_from(_base_text(extra_prims=3000))
    assert len(st.GetRootLayer().ExportToString()) >= snapshots_mod.SNAPSHOT_REUSE_MIN_BYTES
    plain = stage_from(_base_text(extra_prims=3000))
    reused = []
    for i in range(4):
        out = ex.run(EDIT % i, policy, st)
        assert out.status == "succeeded", out.error
        exec(compile(EDIT % i, "<plain>", "exec"), {"stage": plain})  # noqa: S102
        reused.append(out.timings["snapshot_reused"])
    assert reused[1:] == [1.0, 1.0, 1.0], reused
    assert st.GetRootLayer().ExportToString() == plain.GetRootLayer().ExportToString()
    _edit_set(st)
    small_look = ('result = [stage.GetPrimAtPath("/World/Cube").GetAttribute("size").Get(), '
                  'len(list(stage.Traverse()))]\n')
    out = ex.run(small_look, policy, st)
    assert out.timings["snapshot_reused"] == 0.0 and out.value == [7.5, len(list(st.Traverse()))]


def test_frozen_snapshots_with_note_applied_are_verified(ex: Executor, policy: Any) -> None:
    """The Kit offload path: the runner hands a FrozenStage, applies on the live stage, calls note_applied;
    the server only keeps its synced copy if it exports to exactly the next snapshot's text."""
    from kitgate.worker.snapshot import snapshot_stage

    live = stage_from(_base_text())
    plain = stage_from(_base_text())
    labels = []
    for i in range(3):
        outcome, delta = ex.execute(EDIT % i, policy, snapshot_stage(live))
        assert outcome.status == "succeeded" and delta is not None
        delta.apply_to(live)
        ex.note_applied(delta)
        exec(compile(EDIT % i, "<plain>", "exec"), {"stage": plain})  # noqa: S102
        labels.append(next(k for k in outcome.timings if k in ("snapshot_hit", "snapshot_synced", "snapshot_rebuilt")))
    assert labels[1:] == ["snapshot_synced", "snapshot_synced"], labels
    assert live.GetRootLayer().ExportToString() == plain.GetRootLayer().ExportToString()
    _edit_define(live)  # a user edit in Kit between jobs
    outcome, _delta = ex.execute(LOOK, policy, snapshot_stage(live))
    assert outcome.timings.get("snapshot_rebuilt") == 1.0 and outcome.value == plain_look(live)


def test_every_job_gets_its_own_child_and_spares_are_isolated(ex: Executor, policy: Any) -> None:
    st = stage_from(_base_text())
    pids, spares = [], []
    for i in range(5):
        out = ex.run(EDIT % i, policy, st)
        assert out.status == "succeeded", out.error
        pids.append(ex.last_child_pid)
        spares.append(out.timings["server_spare"])
        time.sleep(0.15)  # idle: the server forks (and warms) the spare for the next job
    assert len(set(pids)) == 5 and all(pids)
    assert 1.0 in spares[1:]  # the pre-forked path was taken
    deadline = time.monotonic() + 5
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(alive(p) for p in pids)  # killed after its one job
    # Between jobs: exactly one spare, already isolated, waiting for a job it has not seen yet.
    spare = _spares(ex)
    assert len(spare) == 1 and spare[0] not in pids
    proc = Path(f"/proc/{spare[0]}")
    stat = (proc / "stat").read_text().split(")")[-1].split()
    assert int(stat[2]) == spare[0] and int(stat[3]) == spare[0]  # own process group and session
    env = {e.split(b"=", 1)[0].decode() for e in (proc / "environ").read_bytes().split(b"\0") if e}
    assert env <= {"PATH", "LANG", "LC_ALL", "PXR_WORK_THREAD_LIMIT", "HOME", "TMPDIR"}, env
    fds = sorted(int(fd) for fd in os.listdir(proc / "fd"))
    # stdio, result pipe, command pipe, and the live-output pipe (closed once a job that is not watched arrives)
    assert len(fds) == 6, fds
    assert all(os.readlink(proc / "fd" / str(fd)).startswith(("pipe:", "/dev/null")) for fd in fds[3:]), fds
    assert os.readlink(proc / "cwd").startswith(str(ex.scratch_root))
    limits = (proc / "limits").read_text()
    assert "Max open files            64" in limits and "Max file size             16777216" in limits
    out = ex.run(LOOK, policy, st)
    assert out.status == "succeeded" and ex.last_child_pid == spare[0] and out.value == plain_look(st)
    assert not alive(spare[0]) or _dies(spare[0])


def _spares(ex: Executor) -> list[int]:
    """The server's live children between jobs, once there is one: the server forks its spare right
    after it answered the last job, so on a loaded machine it may not exist the moment we look."""
    deadline = time.monotonic() + 5
    while True:
        spare = [k for k in child_pids(ex.server_pid or 0) if alive(k)]
        if spare or time.monotonic() > deadline:
            return spare
        time.sleep(0.02)


def _dies(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid)


def test_a_stale_spare_is_killed_not_used(ex: Executor, policy: Any) -> None:
    st = stage_from(_base_text())
    ex.run(EDIT % 0, policy, st)
    time.sleep(0.15)
    spare = _spares(ex)
    assert len(spare) == 1
    _edit_define(st)  # the spare's copy is now stale
    out = ex.run(LOOK, policy, st)
    assert out.timings["server_spare"] == 0.0 and out.timings["snapshot_rebuilt"] == 1.0
    assert out.value == plain_look(st) and ex.last_child_pid != spare[0]
    assert _dies(spare[0])


def test_close_kills_the_spare(tmp_path: Path, policy: Any) -> None:
    ex = Executor(scratch_root=tmp_path / "s")
    ex.run(EDIT % 0, policy, stage_from(_base_text()))
    spare = _spares(ex)
    assert spare
    ex.close()
    assert _dies(spare[0])


def test_server_restart_between_jobs_resends_what_it_lacks(ex: Executor, policy: Any, reuse_small: None) -> None:
    import signal

    st = stage_from(_base_text())
    ex.run(EDIT % 0, policy, st)
    ex.run(EDIT % 1, policy, st)
    os.kill(ex.server_pid or 0, signal.SIGKILL)  # its policy cache and scene copy are gone
    time.sleep(0.1)
    out = ex.run(LOOK, policy, st)
    assert out.status == "succeeded", out.error
    assert out.value == plain_look(st)


# --------------------------------------------------------------------- the server's side, in-process


@pytest.fixture()
def server(tmp_path: Path):
    a, b = socket.socketpair()
    srv = ForkServer(a, tmp_path)
    yield srv
    a.close()
    b.close()


def test_server_asks_for_what_it_does_not_hold(server: ForkServer, policy: Any) -> None:
    spec = {"name": policy.name, "digest": policy.digest, "asset_roots": list(policy.asset_roots)}
    with pytest.raises(_Need, match="policy"):
        server._policy(spec)
    server._policy({**spec, "source": policy.source})
    assert server._policy(spec)[1].digest == policy.digest  # held now: no text needed
    with pytest.raises(_Need, match="snapshot"):
        server._stage({"identifier": "x", "anonymous": True, "ref": "sync:unknown"}, None)
    text = _base_text()
    assert server._stage({"identifier": "x", "anonymous": True, "text": text}, None) is None
    assert server.last_snapshot == "rebuilt"
    # A ref the server only knows as "base + sync" is served only with that sync.
    sync = {"base": server._key, "key": "sync:k1", "delta": None}
    with pytest.raises(_Need):
        server._stage({"identifier": "x", "anonymous": True, "ref": "sync:k1"}, None)
    assert server._stage({"identifier": "x", "anonymous": True, "ref": "sync:k1"}, sync) is sync
    # ...and a named layer is never served from an anonymous one with the same text.
    assert server._stage({"identifier": "/tmp/other.usda", "anonymous": False, "text": text}, None) is None
    assert server.last_snapshot == "rebuilt"


def test_server_compiles_itself_when_the_hosts_python_differs(server: ForkServer, policy: Any) -> None:
    import marshal

    from kitgate.sandbox.compile.compiler import compile_source

    source = EDIT % 3
    compiled = compile_source(source, policy)
    other = {"source": source, "code": {"magic": "00000000", "data": "", "sha256": compiled.code_sha256}}
    data, sha = server._code(other, policy)  # type: ignore[misc]
    assert sha == compiled.code_sha256 and marshal.loads(data).co_names == compiled.code.co_names  # noqa: S302
    assert server._code({"source": "import os\n"}, policy) is None  # and judges it under the policy
