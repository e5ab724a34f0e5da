"""Isolated mode end to end: real fork server, real child processes, real usd-core stages.

Every hostile job must kill only its own child, say which limit stopped it, leave the stage
byte-identical, and leave the executor able to run the next job.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from pxr import Usd, UsdGeom
from test_isolated_helpers import alive, child_pids, policy_with_limits, stage_from

from kitgate.sandbox import executor as executor_mod
from kitgate.sandbox.executor import Executor
from kitgate.sandbox.policy import load_policy
from kitgate.sandbox.process import handle as process_handle


def _base() -> str:
    st = Usd.Stage.CreateInMemory()
    st.GetRootLayer().defaultPrim = "World"
    UsdGeom.Xform.Define(st, "/World")
    UsdGeom.Cube.Define(st, "/World/Cube").CreateSizeAttr(2.0)
    UsdGeom.Sphere.Define(st, "/World/Ball")
    return st.GetRootLayer().ExportToString()


BASE = _base()

EDIT_SCRIPT = """
from pxr import Sdf, UsdGeom, Gf
stage.RemovePrim("/World/Ball")
xf = UsdGeom.Xform.Define(stage, "/World/Rig")
cube = UsdGeom.Cube.Define(stage, "/World/Rig/Box")
cube.CreateSizeAttr(3.0)
cube.AddTranslateOp().Set(Gf.Vec3d(1, 2, 3))
size = stage.GetPrimAtPath("/World/Cube").GetAttribute("size")
for t in range(3):
    size.Set(float(t + 1), t)
rel = stage.GetPrimAtPath("/World/Cube").CreateRelationship("buddy")
rel.AddTarget(Sdf.Path("/World/Rig/Box"))
vset = stage.GetPrimAtPath("/World/Rig").GetVariantSets().AddVariantSet("size")
vset.AddVariant("big")
vset.SetVariantSelection("big")
stage.SetStartTimeCode(0)
stage.SetEndTimeCode(24)
print("built", len(list(stage.Traverse())))
result = {"prims": len(list(stage.Traverse()))}
"""


@pytest.fixture(scope="module")
def ex(tmp_path_factory: pytest.TempPathFactory):
    with Executor(scratch_root=tmp_path_factory.mktemp("scratch")) as executor:
        yield executor


@pytest.fixture(scope="module")
def policies(tmp_path_factory: pytest.TempPathFactory) -> dict:
    d = tmp_path_factory.mktemp("policies")
    return {
        "scene": load_policy("scene-edit"),
        "readonly": load_policy("readonly"),
        "cpu": policy_with_limits(d, "t-cpu", cpu_s=1.0, timeout_s=60.0),
        "mem": policy_with_limits(d, "t-mem", memory_mb=200, timeout_s=60.0, cpu_s=60.0),
        "wall": policy_with_limits(d, "t-wall", timeout_s=0.5, cpu_s=60.0, loop_iterations=10**10),
        "slow": policy_with_limits(d, "t-slow", timeout_s=15.0, cpu_s=15.0),
    }


def _plain(source: str, text: str = BASE) -> str:
    st = stage_from(text)
    exec(compile(source, "<plain>", "exec"), {"stage": st})
    return st.GetRootLayer().ExportToString()


def _assert_next_job_works(ex: Executor, policy) -> None:
    st = stage_from(BASE)
    outcome = ex.run('stage.DefinePrim("/World/After")\nresult = 7\n', policy, st)
    assert outcome.status == "succeeded", outcome.error
    assert outcome.value == 7
    assert st.GetPrimAtPath("/World/After")


def test_success_applies_exactly_the_childs_edits(ex: Executor, policies: dict) -> None:
    st = stage_from(BASE)
    outcome = ex.run(EDIT_SCRIPT, policies["scene"], st)
    assert outcome.status == "succeeded", outcome.error
    assert st.GetRootLayer().ExportToString() == _plain(EDIT_SCRIPT)
    assert outcome.stdout.startswith("built")
    assert outcome.value == {"prims": 4}
    assert "/World/Ball" in outcome.changed_prims and "/World/Rig/Box" in outcome.changed_prims
    assert outcome.changed_prims_total == len(outcome.changed_prims)


def test_execute_touches_nothing_until_the_host_applies(ex: Executor, policies: dict) -> None:
    st = stage_from(BASE)
    outcome, delta = ex.execute(EDIT_SCRIPT, policies["scene"], st)
    assert outcome.status == "succeeded" and delta is not None
    assert st.GetRootLayer().ExportToString() == BASE
    changed = delta.apply_to(st)
    assert "/World/Rig" in changed
    assert st.GetRootLayer().ExportToString() == _plain(EDIT_SCRIPT)


def test_edit_then_raise_leaves_stage_identical(ex: Executor, policies: dict) -> None:
    st = stage_from(BASE)
    outcome = ex.run(EDIT_SCRIPT + "\nraise ValueError('boom after editing')\n", policies["scene"], st)
    assert outcome.status == "failed"
    assert outcome.error["type"] == "ValueError" and "boom" in outcome.error["message"]
    assert st.GetRootLayer().ExportToString() == BASE
    assert outcome.changed_prims == []


def test_readonly_never_applies_a_delta(ex: Executor, policies: dict) -> None:
    st = stage_from(BASE)
    source = 'n = len(list(stage.Traverse()))\nprint("prims", n)\nresult = n\n'
    outcome, delta = ex.execute(source, policies["readonly"], st)
    assert outcome.status == "succeeded", outcome.error
    assert outcome.value == 3 and delta is None
    outcome = ex.run('stage.RemovePrim("/World/Cube")\n', policies["readonly"], st)
    assert st.GetRootLayer().ExportToString() == BASE


def test_cpu_spin_in_c_is_killed_by_rlimit_cpu(ex: Executor, policies: dict) -> None:
    ex.start()
    server = ex.server_pid
    st = stage_from(BASE)
    source = 'stage.DefinePrim("/World/Half")\nfor i in range(100000):\n    x = sorted(range(1000000))\n'
    outcome = ex.run(source, policies["cpu"], st)
    assert outcome.status == "failed" and outcome.limit == "cpu", outcome
    assert st.GetRootLayer().ExportToString() == BASE
    _assert_next_job_works(ex, policies["scene"])
    assert ex.server_pid == server  # only the child died


def test_memory_hog_is_stopped_by_rlimit_as(ex: Executor, policies: dict) -> None:
    ex.start()
    server = ex.server_pid
    st = stage_from(BASE)
    source = 'stage.DefinePrim("/World/Half")\nkeep = []\nfor i in range(100000):\n    keep.append("A" * 1000000)\n'
    outcome = ex.run(source, policies["mem"], st)
    assert outcome.status == "failed" and outcome.limit == "memory", outcome
    assert st.GetRootLayer().ExportToString() == BASE
    _assert_next_job_works(ex, policies["scene"])
    assert ex.server_pid == server  # only the child died


def test_single_long_c_call_is_killed_by_wall_clock(ex: Executor, policies: dict) -> None:
    ex.start()
    server = ex.server_pid
    st = stage_from(BASE)
    source = 'stage.DefinePrim("/World/Half")\nx = sum(range(10**9))\n'
    t0 = time.monotonic()
    outcome = ex.run(source, policies["wall"], st)
    assert outcome.status == "timed_out" and outcome.limit == "timeout", outcome
    assert time.monotonic() - t0 < 30
    assert st.GetRootLayer().ExportToString() == BASE
    _assert_next_job_works(ex, policies["scene"])
    assert ex.server_pid == server  # only the child died


@pytest.mark.parametrize(
    "source, limits",
    [
        ("x = 10**(10**9)\n", {"memory", "cpu"}),
        ("x = 'A' * 10**10\n", {"memory"}),
        ("from pxr import Vt\nv = Vt.Vec3fArray(400000000)\n", {"memory"}),
        ("x = sum(range(10**15))\n", {"memory", "loop_iterations", "cpu", "timeout"}),
    ],
)
def test_checklist_c_calls_are_limited(ex: Executor, policies: dict, source: str, limits: set) -> None:
    ex.start()
    server = ex.server_pid
    st = stage_from(BASE)
    outcome = ex.run('stage.DefinePrim("/World/Half")\n' + source, policies["cpu"], st)
    assert outcome.status in {"failed", "timed_out", "rejected"}, outcome
    if outcome.status != "rejected":
        assert outcome.limit in limits, outcome
    assert st.GetRootLayer().ExportToString() == BASE
    assert ex.server_pid == server  # only the child died


def test_output_flood_and_oversized_result(ex: Executor, policies: dict) -> None:
    ex.start()
    server = ex.server_pid
    policy = policies["scene"]
    st = stage_from(BASE)
    outcome = ex.run('for i in range(100000):\n    print("x" * 1000)\n', policy, st)
    assert len(outcome.stdout.encode()) <= policy.limits.output_bytes
    assert outcome.limit == "output" or outcome.stdout_truncated > 0
    big = policy.limits.result_bytes * 2
    outcome = ex.run(f'stage.DefinePrim("/World/R")\nresult = "x" * {big}\n', policy, st)
    assert outcome.status == "failed" and outcome.limit == "result", outcome
    assert st.GetRootLayer().ExportToString() == BASE
    assert ex.server_pid == server  # only the child died


def _wait_for_child(ex: Executor, timeout: float = 10.0) -> int:
    """The child running the current job: the executor knows it only while the job runs. It may be a
    pre-forked spare that existed before the job, so "a child that is new since before" would race."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = ex.current_child_pid
        if pid and alive(pid):
            return pid
        time.sleep(0.005)
    raise AssertionError("no job child appeared")


def test_child_is_isolated_and_a_crash_is_reported(ex: Executor, policies: dict) -> None:
    """Inspect a running child from outside (/proc), then crash it with SIGSEGV."""
    ex.start()
    facts: dict = {}

    def inspect_and_crash() -> None:
        pid = _wait_for_child(ex)
        time.sleep(0.2)  # let it reach the script
        try:
            inspect(pid)
        except BaseException as exc:
            facts["error"] = exc
        finally:
            os.kill(pid, signal.SIGSEGV)

    def inspect(pid: int) -> None:
        proc = Path(f"/proc/{pid}")
        facts["environ"] = (proc / "environ").read_bytes().split(b"\0")
        facts["fds"] = sorted(int(fd) for fd in os.listdir(proc / "fd"))
        facts["cwd"] = os.readlink(proc / "cwd")
        facts["limits"] = (proc / "limits").read_text()
        stat = (proc / "stat").read_text().split(")")[-1].split()
        facts["pgrp_sid"] = (int(stat[2]), int(stat[3]), pid)
        status = (proc / "status").read_text().splitlines()
        facts["threads"] = int([ln for ln in status if ln.startswith("Threads")][0].split()[1])

    killer = threading.Thread(target=inspect_and_crash)
    killer.start()
    st = stage_from(BASE)
    outcome = ex.run('stage.DefinePrim("/World/Half")\nfor i in range(100000):\n    x = sorted(range(100000))\n',
                     policies["slow"], st)
    killer.join()
    assert "error" not in facts, facts.get("error")
    assert outcome.status == "failed" and outcome.error["type"] == "Crash", outcome
    assert "SIGSEGV" in outcome.error["message"]
    assert st.GetRootLayer().ExportToString() == BASE

    env_names = {e.split(b"=", 1)[0].decode() for e in facts["environ"] if e}
    assert env_names <= {"PATH", "LANG", "LC_ALL", "PXR_WORK_THREAD_LIMIT", "HOME", "TMPDIR"}, env_names
    assert facts["fds"] == [0, 1, 2, facts["fds"][3]] and len(facts["fds"]) == 4  # stdio + result pipe
    assert facts["cwd"].startswith(str(ex.scratch_root)) and not Path(facts["cwd"]).exists()
    pgrp, sid, pid = facts["pgrp_sid"]
    assert pgrp == pid and sid == pid
    assert facts["threads"] == 1
    limits = facts["limits"]
    assert "Max cpu time              15" in limits
    assert "Max open files            64" in limits
    assert "Max file size             16777216" in limits
    assert "unlimited" not in [ln for ln in limits.splitlines() if ln.startswith("Max address space")][0]
    _assert_next_job_works(ex, policies["scene"])


def test_fork_server_crash_is_survived(ex: Executor, policies: dict) -> None:
    ex.start()
    first = ex.server_pid
    os.kill(first, signal.SIGKILL)  # between jobs: restarted transparently
    _assert_next_job_works(ex, policies["scene"])
    second = ex.server_pid
    assert second and second != first

    def kill_server_mid_job() -> None:
        _wait_for_child(ex)
        os.kill(second, signal.SIGKILL)

    killer = threading.Thread(target=kill_server_mid_job)
    killer.start()
    st = stage_from(BASE)
    outcome = ex.run('stage.DefinePrim("/World/Half")\nfor i in range(100000):\n    x = sorted(range(100000))\n',
                     policies["slow"], st)
    killer.join()
    assert outcome.status in {"failed", "timed_out"} and outcome.error["type"] == "SandboxError", outcome
    assert st.GetRootLayer().ExportToString() == BASE
    _assert_next_job_works(ex, policies["scene"])


def test_wedged_fork_server_is_replaced(ex: Executor, policies: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executor_mod, "SERVER_GRACE_S", 0.5)
    monkeypatch.setattr(process_handle, "ACK_TIMEOUT_S", 1.0)
    # Wedged before it accepted the job: the job never ran, so it is retried on a fresh server.
    ex.start()
    wedged = ex.server_pid
    os.kill(wedged, signal.SIGSTOP)
    try:
        st = stage_from(BASE)
        outcome = ex.run('stage.DefinePrim("/World/X")\n', policies["wall"], st)
        assert outcome.status == "succeeded", outcome
        assert st.GetPrimAtPath("/World/X")
        assert not alive(wedged) and ex.server_pid != wedged
    finally:
        if alive(wedged):
            os.kill(wedged, signal.SIGCONT)
    # Wedged while its child runs: the host gives up after timeout + grace; the child dies with it.
    seen: dict = {}

    def wedge_mid_job() -> None:
        seen["child"] = _wait_for_child(ex)
        seen["server"] = ex.server_pid
        time.sleep(0.2)  # past the "started" frame: the job is running
        os.kill(seen["server"], signal.SIGSTOP)

    killer = threading.Thread(target=wedge_mid_job)
    killer.start()
    st = stage_from(BASE)
    outcome = ex.run('stage.DefinePrim("/World/Y")\nfor i in range(100000):\n    x = sorted(range(100000))\n',
                     policies["wall"], st)
    killer.join()
    assert outcome.status == "timed_out" and outcome.error["type"] == "SandboxError", outcome
    assert st.GetRootLayer().ExportToString() == BASE
    deadline = time.monotonic() + 5
    while (alive(seen["server"]) or alive(seen["child"])) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(seen["server"]) and not alive(seen["child"])
    _assert_next_job_works(ex, policies["scene"])


def test_close_leaves_no_processes(tmp_path: Path, policies: dict) -> None:
    ex = Executor(scratch_root=tmp_path / "s")
    _assert_next_job_works(ex, policies["scene"])
    server = ex.server_pid
    assert server and alive(server)
    threads_before = threading.active_count()
    ex.close()
    assert not alive(server)
    assert server not in child_pids(os.getpid())
    assert threading.active_count() == threads_before
    assert not (tmp_path / "s").exists() or not any((tmp_path / "s").glob("job-*"))


def test_references_under_asset_roots_round_trip_relative_to_the_real_layer(ex: Executor, tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    assets.mkdir()
    chair = Usd.Stage.CreateNew(str(assets / "chair.usda"))
    UsdGeom.Cube.Define(chair, "/Chair")
    chair.GetRootLayer().defaultPrim = "Chair"
    chair.Save()
    scene = Usd.Stage.CreateNew(str(assets / "scene.usda"))
    UsdGeom.Xform.Define(scene, "/World")
    scene.Save()
    before = scene.GetRootLayer().ExportToString()
    policy = policy_with_limits(tmp_path / "pol", "t-assets", asset_roots=[str(assets)])

    outcome = ex.run('stage.DefinePrim("/World/Seat").GetReferences().AddReference("./chair.usda")\n', policy, scene)
    assert outcome.status == "succeeded", outcome.error
    assert scene.GetPrimAtPath("/World/Seat").GetTypeName() == "Cube"  # composed from the relative path

    outcome = ex.run('stage.DefinePrim("/World/Bad").GetReferences().AddReference("/etc/passwd")\n', policy, scene)
    assert outcome.status == "failed" and not scene.GetPrimAtPath("/World/Bad")
    assert scene.GetRootLayer().ExportToString() != before  # only the first, allowed job changed it


class _FrozenLayer:
    """What a Kit host may hand over instead of a live layer (docs/architecture.md: the executor reads
    only these four members in isolated mode)."""

    def __init__(self, layer) -> None:
        self.identifier = layer.identifier
        self.anonymous = layer.anonymous
        self._text = layer.ExportToString()
        self._layer = layer

    def ExportToString(self) -> str:  # noqa: N802 - Sdf spelling
        return self._text

    def ComputeAbsolutePath(self, path: str) -> str:  # noqa: N802
        return self._layer.ComputeAbsolutePath(path)


class _FrozenStage:
    def __init__(self, layer) -> None:
        self._target = type("T", (), {"GetLayer": lambda _self: layer})()

    def GetEditTarget(self):  # noqa: N802
        return self._target


def test_execute_needs_only_the_documented_layer_members(ex: Executor, policies: dict) -> None:
    real = stage_from(BASE)
    frozen = _FrozenStage(_FrozenLayer(real.GetRootLayer()))
    outcome, delta = ex.execute(EDIT_SCRIPT, policies["scene"], frozen)
    assert outcome.status == "succeeded", outcome.error
    delta.apply_to(real)  # applied later, on the host's thread
    assert real.GetRootLayer().ExportToString() == _plain(EDIT_SCRIPT)


def test_close_during_a_job_kills_it_instead_of_waiting(tmp_path: Path, policies: dict) -> None:
    ex = Executor(scratch_root=tmp_path / "s")
    ex.start()
    server = ex.server_pid
    result: dict = {}

    def job() -> None:
        st = stage_from(BASE)
        result["outcome"] = ex.run('stage.DefinePrim("/World/Y")\nfor i in range(100000):\n'
                                   '    x = sorted(range(100000))\n', policies["slow"], st)
        result["unchanged"] = st.GetRootLayer().ExportToString() == BASE

    runner = threading.Thread(target=job)
    runner.start()
    child = _wait_for_child(ex)
    t0 = time.monotonic()
    ex.close()
    runner.join()
    assert time.monotonic() - t0 < 10  # far below the job's 15 s limits
    assert result["outcome"].status in {"failed", "timed_out"} and result["unchanged"]
    deadline = time.monotonic() + 5  # the child gets SIGKILL from PR_SET_PDEATHSIG, asynchronously
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(server) and not alive(child)


def test_lone_surrogates_in_output_do_not_cost_the_result(ex: Executor, policies: dict) -> None:
    st = stage_from(BASE)
    outcome = ex.run('print("a\\ud800b")\nstage.DefinePrim("/World/S")\nresult = "x\\udcff"\n', policies["scene"], st)
    assert outcome.status == "succeeded", outcome.error
    assert outcome.stdout == "a?b\n" and outcome.value == "x?"
    assert st.GetPrimAtPath("/World/S")


def test_consecutive_jobs_keep_the_servers_snapshot_in_sync(ex: Executor, policies: dict) -> None:
    """After each applied delta the server updates its cached copy instead of re-parsing the scene;
    the copy is only used when it exports to exactly the host's text (sha256), so results stay exact."""
    jobs = [
        'stage.DefinePrim("/World/A1", "Xform")\n',
        'stage.GetPrimAtPath("/World/Cube").GetAttribute("size").Set(9.0)\nstage.RemovePrim("/World/Ball")\n',
        'stage.DefinePrim("/World/A1/B", "Cube")\nstage.SetEndTimeCode(10)\n',
    ]
    st = stage_from(BASE)
    plain = stage_from(BASE)
    seen = []
    for source in jobs:
        outcome = ex.run(source, policies["scene"], st)
        assert outcome.status == "succeeded", outcome.error
        exec(compile(source, "<plain>", "exec"), {"stage": plain})
        assert st.GetRootLayer().ExportToString() == plain.GetRootLayer().ExportToString()
        seen.append(next(k for k in outcome.timings if k in ("snapshot_hit", "snapshot_synced", "snapshot_rebuilt")))
    assert seen[1:] == ["snapshot_synced", "snapshot_synced"], seen
    # A change the server did not see (made by the host between jobs) forces an exact rebuild.
    st.DefinePrim("/World/HostEdit")
    outcome = ex.run('n = len(list(stage.Traverse()))\nresult = n\n', policies["scene"], st)
    assert outcome.timings.get("snapshot_rebuilt") == 1.0
    assert outcome.value == len(list(st.Traverse()))


def test_server_side_refusal_keeps_the_protocol_in_step(ex: Executor, policies: dict) -> None:
    import dataclasses

    # A policy object whose text does not match its digest (a new name: not in the server's cache).
    tampered = dataclasses.replace(policies["scene"], name="t-tampered",
                                   source=policies["scene"].source + "\n# edited\n")
    st = stage_from(BASE)
    ex.start()
    server = ex.server_pid
    outcome = ex.run('stage.DefinePrim("/World/T")\n', tampered, st)
    assert outcome.status == "failed" and outcome.error["type"] == "SandboxError"
    assert "PolicyError" in outcome.error["message"] or "digest" in outcome.error["message"]
    assert st.GetRootLayer().ExportToString() == BASE
    _assert_next_job_works(ex, policies["scene"])
    assert ex.server_pid == server
