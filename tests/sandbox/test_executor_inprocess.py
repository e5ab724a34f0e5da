"""In-process mode (policy `trusted`): guarded execution on the real stage, atomic by backup/restore."""

from __future__ import annotations

import pytest
from pxr import Usd, UsdGeom
from test_isolated_helpers import policy_with_limits, stage_from

from kitgate.sandbox.executor import Executor
from kitgate.sandbox.policy import load_policy


def _base() -> str:
    st = Usd.Stage.CreateInMemory()
    UsdGeom.Xform.Define(st, "/World")
    UsdGeom.Cube.Define(st, "/World/Cube").CreateSizeAttr(2.0)
    return st.GetRootLayer().ExportToString()


BASE = _base()
EDIT = """
from pxr import UsdGeom
stage.RemovePrim("/World/Cube")
UsdGeom.Sphere.Define(stage, "/World/Ball").CreateRadiusAttr(4.0)
stage.GetSessionLayer().comment = "touched"
result = "done"
"""


@pytest.fixture(scope="module")
def ex(tmp_path_factory: pytest.TempPathFactory):
    with Executor(scratch_root=tmp_path_factory.mktemp("scratch")) as executor:
        yield executor


@pytest.fixture(scope="module")
def trusted():
    policy = load_policy("trusted")
    assert policy.mode == "in_process"
    return policy


def test_success_edits_the_stage_like_plain_python(ex: Executor, trusted) -> None:
    st = stage_from(BASE)
    outcome = ex.run(EDIT, trusted, st)
    assert outcome.status == "succeeded", outcome.error
    plain = stage_from(BASE)
    exec(compile(EDIT, "<plain>", "exec"), {"stage": plain})
    assert st.GetRootLayer().ExportToString() == plain.GetRootLayer().ExportToString()
    assert set(outcome.changed_prims) >= {"/World/Cube", "/World/Ball"}
    assert ex.server_pid is None  # in-process jobs never start the fork server


def test_edit_then_raise_restores_root_and_session_layers(ex: Executor, trusted) -> None:
    st = stage_from(BASE)
    session_before = st.GetSessionLayer().ExportToString()
    outcome = ex.run(EDIT + "\nraise RuntimeError('late failure')\n", trusted, st)
    assert outcome.status == "failed" and outcome.error["type"] == "RuntimeError"
    assert st.GetRootLayer().ExportToString() == BASE
    assert st.GetSessionLayer().ExportToString() == session_before
    assert outcome.changed_prims == []


def test_timeout_mid_edit_restores(ex: Executor, tmp_path) -> None:
    policy = policy_with_limits(tmp_path, "t-trusted-fast", base="trusted", timeout_s=0.3)
    st = stage_from(BASE)
    outcome = ex.run('stage.DefinePrim("/World/Half")\nwhile True:\n    pass\n', policy, st)
    assert outcome.status == "timed_out" and outcome.limit == "timeout", outcome
    assert st.GetRootLayer().ExportToString() == BASE


LEFT_OPEN = """
from pxr import Sdf, Usd
def held(box, kind):
    define = stage.DefinePrim
    if kind == "block":
        with Sdf.ChangeBlock():
            yield 1
    elif kind == "target":
        with Usd.EditContext(stage, stage.GetSessionLayer()):
            yield 1
    else:
        try:
            yield 1
        finally:
            define("/World/LateEdit", "Xform")
            while True:
                pass
box = []
for kind in ("block", "target", "finally"):
    gen = held(box, kind)
    box.append(gen)  # a reference cycle: only the garbage collector would ever close it
    next(gen)
stage.SetEditTarget(stage.GetSessionLayer())
result = "left open"
"""


def test_generators_left_suspended_are_closed_with_the_job(ex: Executor, trusted) -> None:
    """A suspended `with Sdf.ChangeBlock()` / `Usd.EditContext` must not outlive a trusted job on the
    host's stage, nor may a `finally` act later when the host's GC collects the cycle."""
    import gc

    st = stage_from(BASE)
    root = st.GetRootLayer()
    gc.disable()
    try:
        outcome = ex.run(LEFT_OPEN, trusted, st)
        assert outcome.status == "succeeded", outcome.error
        assert st.GetEditTarget().GetLayer() == root  # EditContext exited, SetEditTarget undone
        st.DefinePrim("/World/HostEdit", "Xform")  # fails while an Sdf.ChangeBlock is open
        assert root.GetPrimAtPath("/World/HostEdit") is not None
    finally:
        gc.enable()
    gc.collect()
    assert not st.GetPrimAtPath("/World/LateEdit")
    assert st.GetEditTarget().GetLayer() == root
