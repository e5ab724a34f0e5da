"""Spec-level delta: what a child records and the parent applies equals what plain Python does.

Each case runs the same edit twice on copies of one real usd-core stage: once plainly (the reference),
once with a ChangeRecorder; the delta goes through JSON (as it does over the pipe), is validated and
applied to a third copy, and the exported layers must be identical.
"""

from __future__ import annotations

import gc
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pxr import Gf, Sdf, Usd, UsdGeom, UsdShade, Vt

from kitgate.sandbox.delta import ChangeRecorder, Delta, DeltaError, build_delta


def _base_text() -> str:
    st = Usd.Stage.CreateInMemory()
    layer = st.GetRootLayer()
    layer.defaultPrim = "World"
    UsdGeom.SetStageUpAxis(st, UsdGeom.Tokens.y)
    st.DefinePrim("/World", "Xform")
    cube = UsdGeom.Cube.Define(st, "/World/A")
    cube.CreateSizeAttr(1.0)
    sphere = st.DefinePrim("/World/B", "Sphere")
    vset = sphere.GetVariantSets().AddVariantSet("look")
    for name, radius in (("red", 2.0), ("blue", 3.0)):
        vset.AddVariant(name)
        vset.SetVariantSelection(name)
        with vset.GetVariantEditContext():
            sphere.CreateAttribute("radius", Sdf.ValueTypeNames.Double).Set(radius)
    vset.SetVariantSelection("red")
    st.DefinePrim("/World/C", "Xform")
    st.DefinePrim("/World/C/D", "Mesh")
    UsdShade.Material.Define(st, "/World/Looks/Mat")
    return layer.ExportToString()


BASE = _base_text()


def _stage(text: str = BASE) -> Usd.Stage:
    layer = Sdf.Layer.CreateAnonymous(".usda")
    assert layer.ImportFromString(text)
    return Usd.Stage.Open(layer)


def _roundtrip(edit: Callable[[Usd.Stage], None], text: str = BASE) -> tuple[str, str, Delta]:
    reference = _stage(text)
    edit(reference)
    child = _stage(text)
    recorder = ChangeRecorder(child, child.GetRootLayer())
    edit(child)
    wire = json.loads(json.dumps(build_delta(recorder)))
    delta = Delta.from_wire(wire)
    target = _stage(text)
    delta.apply_to(target)
    return reference.GetRootLayer().ExportToString(), target.GetRootLayer().ExportToString(), delta


def _delete_and_create(st: Usd.Stage) -> None:
    st.RemovePrim("/World/C")
    st.DefinePrim("/World/Z", "Xform")
    st.DefinePrim("/World/M/N", "Mesh")


def _attributes_and_samples(st: Usd.Stage) -> None:
    size = st.GetPrimAtPath("/World/A").GetAttribute("size")
    size.Set(4.0)
    for t in range(5):
        size.Set(float(t), t)
    xf = UsdGeom.Xformable(st.GetPrimAtPath("/World/C"))
    xf.AddTranslateOp().Set(Gf.Vec3d(1, 2, 3))
    mesh = UsdGeom.Mesh(st.GetPrimAtPath("/World/C/D"))
    mesh.CreatePointsAttr(Vt.Vec3fArray([(0, 0, 0), (1, 0, 0), (0, 1, 0)]))
    mesh.CreateFaceVertexCountsAttr([3])


def _variants(st: Usd.Stage) -> None:
    prim = st.GetPrimAtPath("/World/B")
    vset = prim.GetVariantSets().GetVariantSet("look")
    vset.AddVariant("green")
    vset.SetVariantSelection("green")
    with vset.GetVariantEditContext():
        prim.CreateAttribute("radius", Sdf.ValueTypeNames.Double).Set(9.0)
        st.DefinePrim("/World/B/Extra", "Cube")


def _relationships(st: Usd.Stage) -> None:
    UsdShade.MaterialBindingAPI.Apply(st.GetPrimAtPath("/World/A")).Bind(UsdShade.Material(st.GetPrimAtPath("/World/Looks/Mat")))
    st.GetPrimAtPath("/World/C").CreateRelationship("targets").AddTarget("/World/A")


def _layer_metadata(st: Usd.Stage) -> None:
    st.SetStartTimeCode(1)
    st.SetEndTimeCode(48)
    st.SetTimeCodesPerSecond(30)
    UsdGeom.SetStageUpAxis(st, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(st, 0.01)
    st.SetDefaultPrim(st.GetPrimAtPath("/World/C"))


def _rename_and_order(st: Usd.Stage) -> None:
    layer = st.GetRootLayer()
    layer.GetPrimAtPath("/World/A").name = "Renamed"
    st.DefinePrim("/World/Zeta")
    st.DefinePrim("/World/Alpha")  # created after Zeta: order must survive the delta
    st.RemovePrim("/World/B")
    st.DefinePrim("/World/B", "Cube")  # delete + recreate moves it to the end


def _prim_metadata(st: Usd.Stage) -> None:
    prim = st.GetPrimAtPath("/World/C")
    prim.SetMetadata("kind", "component")
    prim.SetDocumentation("docs")
    st.GetPrimAtPath("/World/A").SetActive(False)
    prim.GetAttribute("xformOpOrder")  # read only: no change


def _remove_property(st: Usd.Stage) -> None:
    st.GetPrimAtPath("/World/A").RemoveProperty("size")
    st.DefinePrim("/Other", "Scope")


@pytest.mark.parametrize(
    "edit",
    [_delete_and_create, _attributes_and_samples, _variants, _relationships, _layer_metadata, _rename_and_order,
     _prim_metadata, _remove_property],
)
def test_delta_reproduces_plain_python(edit: Callable[[Usd.Stage], None]) -> None:
    expected, got, delta = _roundtrip(edit)
    assert got == expected
    assert got != BASE
    assert delta.changed_prims_total >= 1


def test_no_change_gives_empty_delta() -> None:
    expected, got, delta = _roundtrip(lambda st: st.GetPrimAtPath("/World/A").GetAttribute("size").Get())
    assert delta.empty and got == expected == BASE


def test_whole_layer_replacement_falls_back_to_root_prims() -> None:
    other = Usd.Stage.CreateInMemory()
    other.DefinePrim("/Fresh", "Xform")
    text = other.GetRootLayer().ExportToString()
    expected, got, delta = _roundtrip(lambda st: st.GetRootLayer().ImportFromString(text))
    assert got == expected
    assert "/World" in [p.pathString for p in delta.remove]


def _sublayer_edits(tmp_path: Path) -> list[Callable[[Usd.Stage], None]]:
    a, b = tmp_path / "a.usda", tmp_path / "b.usda"
    a.write_text('#usda 1.0\ndef Xform "FromA"\n{\n}\n')
    b.write_text('#usda 1.0\ndef Xform "FromB"\n{\n}\n')

    def append(st: Usd.Stage) -> None:
        st.GetRootLayer().subLayerPaths.append(str(a))
        st.DefinePrim("/World/Also", "Xform")

    def two_with_offset(st: Usd.Stage) -> None:
        layer = st.GetRootLayer()
        layer.subLayerPaths.append(str(a))
        layer.subLayerPaths.insert(0, str(b))
        layer.subLayerOffsets[1] = Sdf.LayerOffset(10, 2)

    return [append, two_with_offset]


def test_sublayer_changes_round_trip(tmp_path: Path) -> None:
    """F4: sublayer paths and offsets travel in the delta and compose on the host like plain Python."""
    for edit in _sublayer_edits(tmp_path):
        expected, got, delta = _roundtrip(edit)
        assert got == expected
        assert "subLayers" in delta.meta_set
    with_sub = _stage()
    _sublayer_edits(tmp_path)[1](with_sub)
    text = with_sub.GetRootLayer().ExportToString()
    expected, got, delta = _roundtrip(lambda st: st.GetRootLayer().subLayerPaths.clear(), text)
    assert got == expected and "subLayers" in delta.meta_clear
    target = _stage(text)
    delta.apply_to(target)
    assert list(target.GetRootLayer().subLayerPaths) == [] and not target.GetPrimAtPath("/FromA")


def _forged_sublayer_delta(paths: list[str], declare: bool = True) -> dict:
    """What a compromised child could write on the result pipe: a hand-built wire dict."""
    entries = ",\n".join(f"        @{p}@" for p in paths)
    text = f"#usda 1.0\n(\n    subLayers = [\n{entries}\n    ]\n)\n"
    keys = ["subLayerOffsets", "subLayers"] if declare else []
    return {"version": 1, "layer": text, "copy": [], "remove": [], "order": {}, "meta_set": keys,
            "meta_clear": [], "changed": [], "changed_total": 0}


def test_forged_sublayers_outside_the_roots_are_refused_by_the_parent(tmp_path: Path) -> None:
    """The parent-side check the Executor uses, fed a forged delta: nothing outside the roots composes."""
    from kitgate.sandbox.executor import _asset_checker
    from kitgate.sandbox.policy import load_policy

    root = tmp_path / "root"
    (root / "scenes").mkdir(parents=True)
    (root / "ok.usda").write_text('#usda 1.0\ndef Xform "Ok"\n{\n}\n')
    outside = tmp_path / "outside.usda"
    outside.write_text('#usda 1.0\ndef Xform "KGCANARY_OUTSIDE"\n{\n}\n')
    (root / "link.usda").symlink_to(outside)
    policy = load_policy("scene-edit", asset_base=str(root))
    assert str(root.resolve()) in policy.asset_roots
    host_anon = Sdf.Layer.CreateAnonymous("host-secret")
    file_target = Sdf.Layer.CreateNew(str(root / "scenes" / "stage.usda"))
    for target_layer in (_stage().GetRootLayer(), file_target):
        check = _asset_checker(policy, target_layer)
        hostile = [str(outside), "/etc/passwd", "../../outside.usda", "../../../../../etc/passwd",
                   str(root / "link.usda"), f"file://{outside}", host_anon.identifier,
                   str(root / ".." / "outside.usda"), "outside.usda"]
        for bad in hostile:
            for declare in (True, False):
                with pytest.raises(DeltaError, match="outside"):
                    Delta.from_wire(_forged_sublayer_delta([str(root / "ok.usda"), bad], declare), asset_allowed=check)
        good = Delta.from_wire(_forged_sublayer_delta([str(root / "ok.usda")]), asset_allowed=check)
        assert "subLayers" in good.meta_set
    stage = _stage()
    good.apply_to(stage)
    assert stage.GetPrimAtPath("/Ok") and not stage.GetPrimAtPath("/KGCANARY_OUTSIDE")
    with pytest.raises(DeltaError, match="subLayers"):
        Delta.from_wire(_forged_sublayer_delta([str(root / "ok.usda")] * 300), asset_allowed=lambda *_a, **_k: True)


class _FailingDelta(Delta):
    def _apply(self, target: Sdf.Layer) -> None:
        super()._apply(target)
        raise RuntimeError("injected failure after every edit was applied")


@pytest.mark.parametrize("edit", [_delete_and_create, _rename_and_order, _layer_metadata, _variants])
def test_failed_apply_restores_target_byte_identical(edit: Callable[[Usd.Stage], None]) -> None:
    child = _stage()
    recorder = ChangeRecorder(child, child.GetRootLayer())
    edit(child)
    wire = build_delta(recorder)
    good = Delta.from_wire(wire)
    delta = _FailingDelta(**{f: getattr(good, f) for f in good.__dataclass_fields__})
    target = _stage()
    with pytest.raises(RuntimeError, match="injected"):
        delta.apply_to(target)
    assert target.GetRootLayer().ExportToString() == BASE


def _wire(edit: Callable[[Usd.Stage], None]) -> dict:
    child = _stage()
    recorder = ChangeRecorder(child, child.GetRootLayer())
    edit(child)
    return build_delta(recorder)


def test_hostile_wire_data_is_rejected() -> None:
    wire = _wire(_delete_and_create)
    bad_cases = [
        {**wire, "version": 99},
        {**wire, "copy": ["World"]},  # relative
        {**wire, "copy": ["/World{look=red}X"]},  # variant selection
        {**wire, "copy": ["/Nowhere"]},  # declared but not carried
        {**wire, "remove": ["/World/A.size[/x]"]},  # target path
        {**wire, "meta_set": ["owner"]},
        {**wire, "layer": "#usda 1.0\n(\n garbage"},
        {**wire, "layer": "x" * 100},
        {**wire, "order": {"/World": ["ok", "../bad"]}},
        {**wire, "copy": "not a list"},
    ]
    for case in bad_cases:
        with pytest.raises(DeltaError):
            Delta.from_wire(case)
    with pytest.raises(DeltaError):
        Delta.from_wire(wire, max_bytes=10)


def test_composition_arcs_must_stay_under_asset_roots(tmp_path) -> None:
    def add_reference(st: Usd.Stage) -> None:
        st.DefinePrim("/World/Ref").GetReferences().AddReference("/etc/passwd.usda")

    wire = _wire(add_reference)
    with pytest.raises(DeltaError, match="outside"):
        Delta.from_wire(wire, asset_allowed=lambda asset, _layer: asset.startswith(str(tmp_path)))
    assert Delta.from_wire(wire, asset_allowed=lambda asset, _layer: True).copy


def _big_scene(groups: int, per_group: int) -> str:
    st = Usd.Stage.CreateInMemory()
    layer = st.GetRootLayer()
    with Sdf.ChangeBlock():
        for path in ["/World", *(f"/World/G{g}" for g in range(groups))]:
            Sdf.CreatePrimInLayer(layer, path).specifier = Sdf.SpecifierDef
        for g in range(groups):
            for i in range(per_group):
                spec = Sdf.CreatePrimInLayer(layer, f"/World/G{g}/P{i}")
                spec.specifier = Sdf.SpecifierDef
                spec.typeName = "Cube"
                attr = Sdf.AttributeSpec(spec, "size", Sdf.ValueTypeNames.Double)
                attr.default = float(i)
    return layer.ExportToString()


def _small_edit(st: Usd.Stage) -> None:
    st.GetPrimAtPath("/World/G3/P7").GetAttribute("size").Set(42.0)
    st.DefinePrim("/World/G3/New", "Sphere")


def _delta_cost(text: str, runs: int = 5) -> float:
    # All stages exist before timing starts: USD tears big stages down on worker threads, which
    # would otherwise land in the timed windows as noise unrelated to the delta.
    pairs = [(_stage(text), _stage(text)) for _ in range(runs)]
    times = []
    gc.collect()
    for child, target in pairs:
        t0 = time.perf_counter()
        recorder = ChangeRecorder(child, child.GetRootLayer())
        _small_edit(child)
        delta = Delta.from_wire(json.loads(json.dumps(build_delta(recorder))))
        delta.apply_to(target)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def test_delta_cost_does_not_grow_with_scene_size() -> None:
    small, large = _big_scene(10, 10), _big_scene(40, 100)  # 100 vs 4,000 prims
    expected, got, _delta = _roundtrip(_small_edit, large)
    assert got == expected
    t_small, t_large = _delta_cost(small), _delta_cost(large)
    # O(scene) would make this ~40x; allow generous noise on a busy 2-core machine.
    assert t_large / t_small < 5, (t_small, t_large)


def test_asset_valued_attributes_are_checked_too() -> None:
    def add_texture(st: Usd.Stage) -> None:
        attr = st.DefinePrim("/World/Tex").CreateAttribute("file", Sdf.ValueTypeNames.Asset)
        attr.Set(Sdf.AssetPath("/etc/shadow"))
        attr.Set(Sdf.AssetPath("ok.png"), 1)

    wire = _wire(add_texture)
    seen: list[tuple[str, bool]] = []

    def check(asset: str, _layer: Sdf.Layer, composition: bool = True) -> bool:
        seen.append((asset, composition))
        return not asset.startswith("/etc")

    with pytest.raises(DeltaError, match="asset value"):
        Delta.from_wire(wire, asset_allowed=check)
    assert ("/etc/shadow", False) in seen


def test_oversized_delta_is_a_limit_on_both_sides(monkeypatch: pytest.MonkeyPatch) -> None:
    from kitgate.sandbox import delta as delta_mod

    def flood(st: Usd.Stage) -> None:
        with Sdf.ChangeBlock():
            for i in range(50):
                Sdf.CreatePrimInLayer(st.GetRootLayer(), f"/Flood/P{i}").specifier = Sdf.SpecifierDef

    wire = _wire(flood)  # within the real limits
    monkeypatch.setattr(delta_mod, "MAX_DELTA_SPECS", 20)
    with pytest.raises(delta_mod.DeltaTooLarge):
        _wire(flood)  # the child refuses to build it
    with pytest.raises(delta_mod.DeltaTooLarge):
        Delta.from_wire(wire)  # and the parent refuses a child that lies about it
