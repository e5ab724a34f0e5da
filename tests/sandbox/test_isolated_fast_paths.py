"""The isolated path's shortcuts (issue 18) must be invisible in results and never serve stale state.

What is cut from each job, and what must still hold:
- a job that changed nothing sends no delta (no delta layer, export, checks or apply): a job that changed
  anything, layer metadata included, still sends one;
- the server builds the change recorder on its scene copy before fork and children inherit it: a job's
  delta holds that job's changes only, never the sync delta the copy followed;
- numpy is loaded into the fork server only once a job imports it, and never inside a job's limits;
- each child's working directory (also its HOME and TMPDIR) is new, empty, read-only, removed after it;
- and above all: whatever changed the scene between two jobs (the host, a trusted in-process job, the
  previous isolated job's delta, with or without the notice-counting reuse), the next child sees it,
  also when it is a spare forked before the change.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pxr import Sdf, Usd, UsdGeom
from test_isolated_helpers import LOOK, alive, child_pids, plain_look, stage_from

from kitgate.sandbox.compile.compiler import compile_source
from kitgate.sandbox.executor import Executor, _preloads
from kitgate.sandbox.policy import load_policy
from kitgate.sandbox.process import snapshots as snapshots_mod


def _base() -> Usd.Stage:
    st = Usd.Stage.CreateInMemory()
    UsdGeom.Xform.Define(st, "/World")
    UsdGeom.Cube.Define(st, "/World/Cube").CreateSizeAttr(2.0)
    return stage_from(st.GetRootLayer().ExportToString())


@pytest.fixture(scope="module")
def policy() -> Any:
    return load_policy("scene-edit")


@pytest.fixture(scope="module")
def trusted() -> Any:
    return load_policy("trusted")


@pytest.fixture()
def ex(tmp_path: Path) -> Iterator[Executor]:
    with Executor(scratch_root=tmp_path / "scratch") as executor:
        yield executor


def _spare(ex: Executor, timeout: float = 10.0) -> int:
    """The pre-forked spare child the server keeps between jobs (not the last job's child, which may
    still be exiting after its kill)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        spare = [k for k in child_pids(ex.server_pid or 0) if k != ex.last_child_pid and alive(k)]
        if spare:
            return spare[0]
        time.sleep(0.01)
    raise AssertionError("the server forked no spare")


def test_a_job_that_changed_nothing_sends_no_delta_and_any_change_still_does(ex: Executor, policy: Any) -> None:
    st = _base()
    before = st.GetRootLayer().ExportToString()
    for source in ("x = 1\n", LOOK, 'p = stage.GetPrimAtPath("/World/Cube")\nresult = p.GetAttribute("size").Get()\n'):
        outcome, delta = ex.execute(source, policy, st)
        assert outcome.status == "succeeded", outcome.error
        assert delta is None and outcome.changed_prims == []
    assert st.GetRootLayer().ExportToString() == before
    # Layer metadata only (no prim changes): still carried back.
    outcome, delta = ex.execute("stage.SetEndTimeCode(42)\n", policy, st)
    assert outcome.status == "succeeded" and delta is not None, outcome.error
    delta.apply_to(st)
    assert st.GetEndTimeCode() == 42
    # An attribute value only.
    outcome, delta = ex.execute('stage.GetPrimAtPath("/World/Cube").GetAttribute("size").Set(3.0)\n', policy, st)
    assert outcome.status == "succeeded" and delta is not None
    delta.apply_to(st)
    assert st.GetPrimAtPath("/World/Cube").GetAttribute("size").Get() == 3.0
    # Defined and removed again within the job: the net effect (nothing) is what arrives.
    text = st.GetRootLayer().ExportToString()
    outcome = ex.run('stage.DefinePrim("/World/Tmp")\nstage.RemovePrim("/World/Tmp")\n', policy, st)
    assert outcome.status == "succeeded", outcome.error
    assert st.GetRootLayer().ExportToString() == text


def test_a_jobs_delta_holds_its_own_changes_only(ex: Executor, policy: Any) -> None:
    """The copy's recorder is built before fork; after the server follows a sync delta it must be rebuilt,
    or the next job would report (and send) the previous job's edit as its own."""
    st = _base()
    for i in range(4):
        out = ex.run(f'stage.DefinePrim("/World/Job{i}", "Sphere")\n', policy, st)
        assert out.status == "succeeded", out.error
        assert out.changed_prims == [f"/World/Job{i}"], out.changed_prims
        time.sleep(0.05)  # the spare for the next job is forked from the copy that followed this delta
        outcome, delta = ex.execute("x = 1\n", policy, st)
        assert outcome.status == "succeeded" and delta is None, (outcome, delta)
    assert [str(p.GetPath()) for p in st.GetPrimAtPath("/World").GetChildren()] == [
        "/World/Cube", "/World/Job0", "/World/Job1", "/World/Job2", "/World/Job3"]


@pytest.mark.parametrize("reuse", [False, True], ids=["export-each-job", "notice-counting-reuse"])
def test_the_next_child_sees_every_edit_made_between_jobs(ex: Executor, policy: Any, trusted: Any, reuse: bool,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The attack: make the server's copy (and the spare forked from it) stale, then look. Each edit
    comes from another source; the spare that will run the look was forked before the edit."""
    if reuse:
        monkeypatch.setattr(snapshots_mod, "SNAPSHOT_REUSE_MIN_BYTES", 0)
    st = _base()
    edits = [
        ("isolated job", lambda: ex.run('stage.DefinePrim("/World/FromJob", "Cone")\n', policy, st)),
        ("host", lambda: st.DefinePrim("/World/FromHost", "Sphere")),
        ("trusted in-process job", lambda: ex.run('stage.DefinePrim("/World/FromTrusted", "Cube")\n', trusted, st)),
        ("host attribute", lambda: st.GetPrimAtPath("/World/Cube").GetAttribute("size").Set(9.0)),
        ("isolated job attribute", lambda: ex.run(
            'stage.GetPrimAtPath("/World/Cube").GetAttribute("size").Set(11.0)\n', policy, st)),
        ("host Sdf edit", lambda: _sdf_edit(st)),
        ("host removal", lambda: st.RemovePrim("/World/FromHost")),
    ]
    spares = []
    for name, edit in edits:
        out = ex.run(LOOK, policy, st)  # leaves a spare forked from the current copy
        assert out.status == "succeeded", out.error
        _spare(ex)
        result = edit()
        assert result is None or getattr(result, "status", "succeeded") == "succeeded", (name, result)
        out = ex.run(LOOK, policy, st)
        assert out.status == "succeeded", (name, out.error)
        assert out.value == plain_look(st), name
        spares.append(out.timings.get("server_spare"))
    assert 1.0 in spares  # the pre-forked spare path was exercised, not only fresh children


def _sdf_edit(st: Usd.Stage) -> None:
    layer = st.GetRootLayer()
    with Sdf.ChangeBlock():
        spec = Sdf.CreatePrimInLayer(layer, "/World/SdfMade")
        spec.specifier = Sdf.SpecifierDef
        spec.typeName = "Cube"


def test_numpy_is_loaded_into_the_server_on_first_use_only(ex: Executor, policy: Any) -> None:
    st = _base()
    assert ex.run("x = 1\n", policy, st).status == "succeeded"
    server = ex.server_pid
    assert server is not None

    def server_has_numpy() -> bool:
        return "numpy" in Path(f"/proc/{server}/maps").read_text()

    assert not server_has_numpy()
    job = "import numpy as np\nresult = float(np.linalg.norm(np.array([3.0, 4.0])))\n"
    out = ex.run(job, policy, st)
    assert out.status == "succeeded" and out.value == 5.0, out.error
    assert out.timings["server_spare"] == 0.0  # a fresh child forked after the load, not the numpy-less spare
    assert server_has_numpy() and ex.server_pid == server
    _spare(ex)
    out = ex.run(job, policy, st)
    assert out.status == "succeeded" and out.value == 5.0 and out.timings["server_spare"] == 1.0


def test_preloads_are_read_from_the_compiled_code(policy: Any) -> None:
    def names(source: str) -> list[str]:
        compiled = compile_source(source, policy)
        assert compiled.ok and compiled.code is not None, compiled.violations
        return _preloads(compiled.code)

    assert names("x = 1\n") == []
    assert names("import numpy as np\n") == ["numpy"]
    assert names("from numpy import linalg\n") == ["numpy"]
    assert names("def f():\n    import numpy.linalg\n    return 1\nresult = f()\n") == ["numpy"]


def test_each_child_works_in_a_new_empty_read_only_directory_removed_after_it(ex: Executor, policy: Any) -> None:
    st = _base()
    seen = set()
    for _ in range(3):
        assert ex.run("x = 1\n", policy, st).status == "succeeded"
        spare = _spare(ex)
        deadline = time.monotonic() + 10
        cwd = os.readlink(f"/proc/{spare}/cwd")
        while cwd == str(ex.scratch_root) and time.monotonic() < deadline:  # the server's, until the spare's mkdir
            time.sleep(0.01)
            cwd = os.readlink(f"/proc/{spare}/cwd")
        assert Path(cwd).parent == ex.scratch_root, cwd
        assert stat.S_IMODE(os.stat(cwd).st_mode) == 0o500 and os.listdir(cwd) == []
        seen.add(cwd)
    assert len(seen) == 3  # never shared between children
    out = ex.run('stage.DefinePrim("/World/Last")\n', policy, st)
    assert out.status == "succeeded"
    ex.close()
    assert [p for p in os.listdir(ex.scratch_root) if p.startswith("job-")] == []  # every child's directory removed


def test_a_rebuilt_copy_of_a_file_layer_keeps_its_identifier(ex: Executor, policy: Any, tmp_path: Path) -> None:
    """Nothing the server keeps across jobs (the inherited recorder, for one) may hold on to the old copy:
    the next copy of a file layer must get the file's identifier again, or relative asset paths would be
    anchored like an anonymous layer's."""
    path = tmp_path / "scene.usda"
    st = Usd.Stage.CreateNew(str(path))
    st.DefinePrim("/World")
    st.GetRootLayer().Save()
    for i in range(3):
        out = ex.run("result = [stage.GetRootLayer().identifier, stage.GetRootLayer().anonymous]\n", policy, st)
        assert out.status == "succeeded", out.error
        assert out.value == [st.GetRootLayer().identifier, False], (i, out.value)
        st.DefinePrim(f"/World/Host{i}")  # the next job gets a rebuilt copy
