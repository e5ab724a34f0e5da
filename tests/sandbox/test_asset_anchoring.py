"""Re-anchored relative asset paths: a path checked next to one layer must never resolve next to another.

WHY: USD resolves a relative asset path against the layer that holds it. The sandbox checks an arc
against the layer it is authored in, so `../../x/scene.usda` authored in a stage that sits deep below
the asset root lands inside the root. Moved verbatim into a layer with another anchor (an anonymous or
in-memory layer, which USD anchors at the process's working directory, or the session layer), the same
text resolves somewhere else: outside every root. These tests build that layout for real (an asset root,
a job stage six folders below it, a canary file outside the root) and drive the real Executor, isolated
(`scene-edit`, a forked child) and in-process (`trusted`, on the host's own working directory), through
every spec-moving operation a policy offers. The canary's token must never reach the job's result.
Harmless relative references inside the root must keep working after the same moves.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pxr import Sdf, Usd

from kitgate.sandbox.executor import Executor
from kitgate.sandbox.policy import load_policy

DEPTH = 6  # the job stage sits this many folders below the asset root
SCENE = '#usda 1.0\n(\n    defaultPrim = "World"\n)\n\ndef Xform "World"\n{\n}\n'


class Layout:
    """base/root (asset root) with the stages deep inside, base/leak/secret.usda outside every root."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "root"
        self.stage_dir = self.root.joinpath(*[f"d{i}" for i in range(1, DEPTH + 1)])
        self.stage_dir.mkdir(parents=True)
        self.token = "KGLEAK" + secrets.token_hex(6)
        leak = base / "leak"
        leak.mkdir()
        (leak / "secret.usda").write_text(
            f'#usda 1.0\n(\n    defaultPrim = "S"\n)\n\ndef Xform "S"\n{{\n'
            f'    def Xform "{self.token}"\n    {{\n    }}\n}}\n')
        # A harmless asset inside the root, two folders above the stages: ../../lib/chair.usda
        lib = self.stage_dir.parent.parent / "lib"
        lib.mkdir()
        (lib / "chair.usda").write_text(
            '#usda 1.0\n(\n    defaultPrim = "Chair"\n)\n\ndef Xform "Chair"\n{\n'
            '    def Cube "Seat"\n    {\n    }\n}\n')
        self.count = 0

    def stage(self) -> Any:
        """A fresh file-backed job stage (one per job, so jobs never see each other's edits)."""
        self.count += 1
        path = self.stage_dir / f"scene{self.count}.usda"
        path.write_text(SCENE)
        stage = Usd.Stage.Open(str(path))
        assert stage is not None
        return stage

    def climbing(self) -> list[str]:
        """Every relative spelling of leak/secret.usda an attacker would try, one per depth; each one is
        inside the root when anchored at the job stage."""
        return ["../" * k + "leak/secret.usda" for k in range(1, DEPTH + 1)]

    def from_slash(self) -> str:
        """The spelling that reaches the canary from a working directory of `/`."""
        return "../../" + str(self.base / "leak" / "secret.usda").lstrip("/")


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    return Layout(tmp_path_factory.mktemp("anchoring"))


@pytest.fixture(scope="module")
def ex(layout: Layout) -> Iterator[Executor]:
    # The children's working directories live in layout.base/scratch/<job>: `../../leak` from there is
    # the canary, so the isolated attack is real on code that lets the child resolve against its cwd.
    with Executor(scratch_root=layout.base / "scratch") as executor:
        yield executor


@pytest.fixture(scope="module")
def policies(layout: Layout) -> dict[str, Any]:
    return {name: load_policy(name, asset_base=str(layout.root)) for name in ("scene-edit", "trusted")}


# Each attack: a relative arc checked against the job layer, then moved into a layer with another anchor.
# `PATHS` is replaced by the candidate spellings; the script collects every prim name and composition
# error it can see and returns them.
COLLECT = '''
def names(st):
    out = [p.GetName() for p in st.TraverseAll()]
    out += [str(e) for e in st.GetCompositionErrors()]
    return out
'''

ATTACKS: dict[str, str] = {
    "copyspec_to_in_memory_stage": COLLECT + '''
from pxr import Sdf, Usd
layer = stage.GetRootLayer()
seen = []
for i, p in enumerate(PATHS):
    prim = stage.DefinePrim("/Probe" + str(i))
    prim.GetReferences().AddReference(p)
    mem = Usd.Stage.CreateInMemory()
    Sdf.CopySpec(layer, "/Probe" + str(i), mem.GetRootLayer(), "/P")
    seen += names(mem)
result = seen
''',
    "copyspec_to_session_layer": COLLECT + '''
from pxr import Sdf
layer = stage.GetRootLayer()
for i, p in enumerate(PATHS):
    stage.DefinePrim("/Probe" + str(i)).GetReferences().AddReference(p)
    Sdf.CopySpec(layer, "/Probe" + str(i), stage.GetSessionLayer(), "/Moved" + str(i))
result = names(stage)
''',
    "transfer_content_with_sublayers": COLLECT + '''
from pxr import Usd
layer = stage.GetRootLayer()
for p in PATHS:
    layer.subLayerPaths.append(p)
mem = Usd.Stage.CreateInMemory()
mem.GetRootLayer().TransferContent(layer)
result = names(mem)
''',
    "payload_inside_variant_copied": COLLECT + '''
from pxr import Sdf, Usd
layer = stage.GetRootLayer()
prim = stage.DefinePrim("/Var")
vset = prim.GetVariantSets().AddVariantSet("look")
for i, p in enumerate(PATHS):
    vset.AddVariant("v" + str(i))
    vset.SetVariantSelection("v" + str(i))
    with vset.GetVariantEditContext():
        prim.GetPayloads().AddPayload(p)
seen = []
for i in range(len(PATHS)):
    mem = Usd.Stage.CreateInMemory()
    Sdf.CopySpec(layer, "/Var", mem.GetRootLayer(), "/Var")
    mem.GetPrimAtPath("/Var").GetVariantSet("look").SetVariantSelection("v" + str(i))
    mem.Load()
    seen += names(mem)
result = seen
''',
    "import_from_string_then_copy": COLLECT + '''
from pxr import Sdf, Usd
layer = stage.GetRootLayer()
text = "#usda 1.0\\n"
for i, p in enumerate(PATHS):
    text += 'def "Imp' + str(i) + '" (\\n    prepend references = @' + p + '@\\n)\\n{\\n}\\n'
layer.ImportFromString(text)
anon = Sdf.Layer.CreateAnonymous()
for i in range(len(PATHS)):
    Sdf.CopySpec(layer, "/Imp" + str(i), anon, "/Imp" + str(i))
mem = Usd.Stage.CreateInMemory()
mem.GetRootLayer().TransferContent(anon)
result = names(mem)
''',
}


def _run(ex: Executor, policy: Any, stage: Any, script: str, paths: list[str]) -> dict[str, Any]:
    outcome = ex.run(script.replace("PATHS", json.dumps(paths)), policy, stage)
    return outcome.to_result_dict()


def _assert_no_leak(layout: Layout, result: dict[str, Any]) -> None:
    dump = json.dumps(result, default=repr)
    assert layout.token not in dump, f"the canary outside the asset root reached the job: {dump[:1500]}"


@pytest.mark.parametrize("shape", sorted(ATTACKS))
def test_isolated_move_does_not_reanchor(shape: str, layout: Layout, ex: Executor, policies: dict[str, Any]) -> None:
    result = _run(ex, policies["scene-edit"], layout.stage(), ATTACKS[shape], layout.climbing())
    _assert_no_leak(layout, result)


@pytest.mark.parametrize("shape", sorted(ATTACKS))
def test_in_process_move_does_not_reanchor(shape: str, layout: Layout, ex: Executor, policies: dict[str, Any],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    cwd = layout.base / "host" / "cwd"  # the host's working directory: ../../leak is the canary
    cwd.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(cwd)
    result = _run(ex, policies["trusted"], layout.stage(), ATTACKS[shape], layout.climbing())
    _assert_no_leak(layout, result)


@pytest.mark.parametrize("shape", ["copyspec_to_in_memory_stage", "transfer_content_with_sublayers"])
def test_in_process_host_cwd_is_slash(shape: str, layout: Layout, ex: Executor, policies: dict[str, Any],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")
    result = _run(ex, policies["trusted"], layout.stage(), ATTACKS[shape], [layout.from_slash()])
    _assert_no_leak(layout, result)


# ----------------------------------------------------------------------------------- harmless moves
BENIGN = '''
from pxr import Sdf, Usd
layer = stage.GetRootLayer()
stage.DefinePrim("/World/Chair").GetReferences().AddReference("../../lib/chair.usda")
mem = Usd.Stage.CreateInMemory()
Sdf.CopySpec(layer, "/World", mem.GetRootLayer(), "/World")
anon = Sdf.Layer.CreateAnonymous()
anon.TransferContent(layer)
Sdf.CopySpec(layer, "/World/Chair", layer, "/World/Chair2")
result = {"here": [p.GetName() for p in stage.Traverse()],
          "moved": [p.GetName() for p in mem.Traverse()],
          "same_layer": list(layer.GetExternalReferences())}
'''


@pytest.mark.parametrize("policy_name", ["scene-edit", "trusted"])
def test_relative_reference_inside_root_survives_moves(policy_name: str, layout: Layout, ex: Executor,
                                                      policies: dict[str, Any]) -> None:
    stage = layout.stage()
    outcome = ex.run(BENIGN, policies[policy_name], stage)
    assert outcome.status == "succeeded", outcome.error
    value = outcome.value
    assert "Seat" in value["here"] and "Seat" in value["moved"], value
    assert value["same_layer"] == ["../../lib/chair.usda"]  # a copy within one layer keeps the relative text
    # the job stage keeps the portable relative arc as authored
    refs = stage.GetRootLayer().GetPrimAtPath("/World/Chair").referenceList.prependedItems
    assert [r.assetPath for r in refs] == ["../../lib/chair.usda"]


def test_moved_arc_is_anchored_where_it_was_checked(layout: Layout, ex: Executor, policies: dict[str, Any]) -> None:
    """The copy into the session layer carries the absolute path the arc was checked as."""
    stage = layout.stage()
    src = 'stage.DefinePrim("/World/Chair").GetReferences().AddReference("../../lib/chair.usda")\n' \
          'from pxr import Sdf\nSdf.CopySpec(stage.GetRootLayer(), "/World/Chair", stage.GetSessionLayer(), "/C")\n' \
          'result = list(stage.GetSessionLayer().GetExternalReferences())'
    outcome = ex.run(src, policies["trusted"], stage)
    assert outcome.status == "succeeded", outcome.error
    assert outcome.value == [str(layout.stage_dir.parent.parent / "lib" / "chair.usda")]


def test_sdf_level_reading_is_unchanged() -> None:
    """Guard against testing the wrong thing: USD itself does re-anchor on a verbatim copy."""
    layer = Sdf.Layer.CreateAnonymous()
    layer.ImportFromString('#usda 1.0\ndef "A" (\n    references = @../x.usda@\n)\n{\n}\n')
    assert layer.GetPrimAtPath("/A").referenceList.explicitItems[0].assetPath == "../x.usda"
    assert os.path.isabs(str(Path.cwd()))
