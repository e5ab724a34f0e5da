"""Every name the scene-edit policy lets a script set must come back through an isolated job's delta.

WHY generated: a policy that lets a script set `layer.framePrecision` but a delta that cannot carry it
fails harmless jobs after they ran (found by the second attack round: `framePrecision`, and lists
inside `customLayerData`). The cases below are read from policies/scene-edit.toml (`settable` of each
type, and `metadata_keys`); each runs once directly on a copy of the layer (plain Python, the
reference) and once as a real isolated job (fork server, child, delta, host apply), and the host layer
must end up with the same values. A new settable name without a sample here fails the first test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pxr import Sdf, Usd, UsdGeom
from test_isolated_helpers import policy_with_limits, stage_from

from kitgate.sandbox.executor import Executor
from kitgate.sandbox.policy import load_policy

POLICY = load_policy("scene-edit")


def _base() -> str:
    st = Usd.Stage.CreateInMemory()
    st.GetRootLayer().defaultPrim = "World"
    UsdGeom.Xform.Define(st, "/World")
    UsdGeom.Cube.Define(st, "/World/A").CreateSizeAttr(1.0)
    st.DefinePrim("/World/B", "Xform")
    return st.GetRootLayer().ExportToString()


BASE = _base()
LAYER = "layer = stage.GetRootLayer()\n"
PRIM_SPEC = "spec = stage.GetRootLayer().GetPrimAtPath('/World/A')\n"
PROP_SPEC = "spec = stage.GetRootLayer().GetPropertyAtPath('/World/A.size')\n"

# (type, settable name) -> (setup, Python expression of the value). `{sub}` is a file under the roots.
SETTABLE_SAMPLES: dict[tuple[str, str], tuple[str, str]] = {
    ("pxr.Sdf.Layer", "defaultPrim"): (LAYER, "'B'"),
    ("pxr.Sdf.Layer", "documentation"): (LAYER, "'about this layer'"),
    ("pxr.Sdf.Layer", "comment"): (LAYER, "'a comment'"),
    ("pxr.Sdf.Layer", "customLayerData"): (LAYER, "{'tags': ['a', 'b'], 'n': {'xs': [1, 2], 'f': [0.5, 1]}, 'k': 3}"),
    ("pxr.Sdf.Layer", "startTimeCode"): (LAYER, "1.0"),
    ("pxr.Sdf.Layer", "endTimeCode"): (LAYER, "48.0"),
    ("pxr.Sdf.Layer", "timeCodesPerSecond"): (LAYER, "30.0"),
    ("pxr.Sdf.Layer", "framesPerSecond"): (LAYER, "12.0"),
    ("pxr.Sdf.Layer", "framePrecision"): (LAYER, "5"),
    ("pxr.Sdf.Layer", "subLayerPaths"): (LAYER, "[{sub!r}]"),
    ("pxr.Sdf.PrimSpec", "typeName"): (PRIM_SPEC, "'Sphere'"),
    ("pxr.Sdf.PrimSpec", "specifier"): (PRIM_SPEC, "Sdf.SpecifierOver"),
    ("pxr.Sdf.PrimSpec", "kind"): (PRIM_SPEC, "'component'"),
    ("pxr.Sdf.PrimSpec", "active"): (PRIM_SPEC, "False"),
    ("pxr.Sdf.PrimSpec", "hidden"): (PRIM_SPEC, "True"),
    ("pxr.Sdf.PrimSpec", "instanceable"): (PRIM_SPEC, "True"),
    ("pxr.Sdf.PrimSpec", "documentation"): (PRIM_SPEC, "'about A'"),
    ("pxr.Sdf.PrimSpec", "comment"): (PRIM_SPEC, "'note on A'"),
    ("pxr.Sdf.PropertySpec", "default"): (PROP_SPEC, "2.5"),
    ("pxr.Sdf.PropertySpec", "comment"): (PROP_SPEC, "'size note'"),
    ("pxr.Sdf.PropertySpec", "documentation"): (PROP_SPEC, "'size doc'"),
}
for _name in ("prependedItems", "appendedItems", "explicitItems", "deletedItems", "orderedItems"):
    SETTABLE_SAMPLES[("pxr.Sdf.ListEditorProxy_SdfNameKeyPolicy", _name)] = (
        PRIM_SPEC + "spec = spec.variantSetNameList\n", "['look']")
    SETTABLE_SAMPLES[("pxr.Sdf.ListEditorProxy_SdfPathKeyPolicy", _name)] = (
        PRIM_SPEC + "spec = spec.inheritPathList\n", "[Sdf.Path('/World/B')]")

# metadata key -> value; set on the stage (layer metadata) and on a prim, wherever plain USD accepts it.
METADATA_SAMPLES: dict[str, str] = {
    "comment": "'c'", "documentation": "'d'", "kind": "'group'", "active": "False", "hidden": "True",
    "instanceable": "True", "customData": "{'tags': ['a', 'b'], 'd': {'n': [1, 2]}}",
    "assetInfo": "{'name': 'cube', 'versions': ['1', '2']}", "displayName": "'Cube A'",
    "displayGroup": "'Group'", "typeName": "'Sphere'", "specifier": "Sdf.SpecifierClass",
    "defaultPrim": "'B'", "upAxis": "'Z'", "metersPerUnit": "0.01", "startTimeCode": "2.0",
    "endTimeCode": "20.0", "timeCodesPerSecond": "48.0", "framesPerSecond": "48.0",
}


def _settable_names() -> list[tuple[str, str]]:
    return sorted((qual, name) for qual, rule in POLICY.types.items() for name in rule.settable)


def _script(case: tuple[str, ...], sub: str) -> str:
    if case[0] == "metadata":
        _kind, target, key = case
        obj = "stage" if target == "stage" else "stage.GetPrimAtPath('/World/A')"
        return f"from pxr import Sdf\n{obj}.SetMetadata({key!r}, {METADATA_SAMPLES[key]})\n"
    setup, value = SETTABLE_SAMPLES[(case[0], case[1])]
    return f"from pxr import Sdf\n{setup}spec_or_layer = {'layer' if setup == LAYER else 'spec'}\n" \
           f"spec_or_layer.{case[1]} = {value.replace('{sub!r}', repr(sub))}\n"


def _plain(value: Any) -> Any:
    """Values compared by meaning: a Vt array and the list it came from are equal."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__.endswith("Array"):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return repr(value)


def _values(layer: Sdf.Layer) -> dict[str, Any]:
    out: dict[str, Any] = {}
    paths: list[Any] = []
    layer.Traverse(Sdf.Path.absoluteRootPath, paths.append)
    for path in [Sdf.Path.absoluteRootPath, *paths]:
        spec = layer.GetObjectAtPath(path)
        if spec is None or not hasattr(spec, "ListInfoKeys"):
            continue
        for key in spec.ListInfoKeys():
            try:
                out[f"{path}:{key}"] = _plain(spec.GetInfo(key))
            except Exception:  # noqa: BLE001 - a value without a converter compares by its key only
                out[f"{path}:{key}"] = "?"
    out["subLayers"] = list(layer.subLayerPaths)
    return out


def _cases() -> list[tuple[str, ...]]:
    cases: list[tuple[str, ...]] = [tuple(c) for c in _settable_names()]
    for key in sorted(POLICY.metadata_keys):
        cases += [("metadata", "stage", key), ("metadata", "prim", key)]
    return cases


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("roots")
    (root / "sub.usda").write_text('#usda 1.0\ndef "FromSub"\n{\n}\n')
    policy = policy_with_limits(tmp_path_factory.mktemp("pol"), "t-settable", asset_roots=[str(root)])
    with Executor(scratch_root=tmp_path_factory.mktemp("scratch")) as ex:
        yield ex, policy, str(root / "sub.usda")


def test_every_settable_name_of_the_policy_has_a_sample() -> None:
    missing = [c for c in _settable_names() if c not in SETTABLE_SAMPLES]
    assert not missing, f"add samples for newly settable names: {missing}"
    assert not set(POLICY.metadata_keys) - set(METADATA_SAMPLES), set(POLICY.metadata_keys) - set(METADATA_SAMPLES)


@pytest.mark.parametrize("case", _cases(), ids=lambda c: ".".join(c[-2:]))
def test_settable_name_round_trips_through_the_delta(case: tuple[str, ...], setup: Any) -> None:
    ex, policy, sub = setup
    source = _script(case, sub)
    reference = stage_from(BASE)
    try:
        exec(compile(source, "<plain>", "exec"), {"stage": reference})
    except Exception as exc:  # noqa: BLE001 - plain USD refuses this form (e.g. stage-level 'kind')
        if case[0] == "metadata":
            pytest.skip(f"plain USD refuses {case}: {str(exc).strip()[:120]}")
        raise
    stage = stage_from(BASE)
    outcome = ex.run(source, policy, stage)
    assert outcome.status == "succeeded", (source, outcome.error)
    assert _values(stage.GetRootLayer()) == _values(reference.GetRootLayer()), source
    assert Sdf.Layer.CreateAnonymous(".usda").ImportFromString(stage.GetRootLayer().ExportToString())


def test_a_list_of_mixed_kinds_in_a_dictionary_is_refused_with_a_reason(setup: Any) -> None:
    ex, policy, _sub = setup
    stage = stage_from(BASE)
    outcome = ex.run("stage.GetRootLayer().customLayerData = {'mixed': ['a', 1]}\n", policy, stage)
    assert outcome.status == "failed" and outcome.error["type"] == "UnsupportedEdit", outcome.error
    assert "one kind" in outcome.error["message"]
    assert "mixed" not in stage.GetRootLayer().ExportToString()


def test_metadata_cases_are_generated_for_every_key(tmp_path: Path) -> None:
    keys = {c[2] for c in _cases() if c[0] == "metadata"}
    assert keys == set(POLICY.metadata_keys)
