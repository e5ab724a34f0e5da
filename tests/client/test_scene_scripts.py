"""Scene-tool arguments cannot become code: strict Sdf path syntax, capped depth, JSON literals only."""

from __future__ import annotations

import ast

import pytest

from kitgate.client import scene_scripts
from kitgate.client.scene_scripts import SceneArgError, check_depth, check_prim_path, get_prim_script, list_prims_script

INJECTIONS = [
    '/World"); import os; os.system("id") #',
    "/World'\nimport os\n",
    "/World\\\nimport os",
    "/World/../../etc",
    "World",
    "",
    "/World//Cube",
    "/World/1Cube",
    "/World.size",
    "/World{v=a}",
    "/Wörld",
    "/World\x00",
    "/World\u202e",
    "/" + "a" * 600,
    "/World/x\n/y",
    123,
    None,
    ["/World"],
]


@pytest.mark.parametrize("path", INJECTIONS)
def test_bad_paths_are_refused(path: object) -> None:
    with pytest.raises(SceneArgError):
        check_prim_path(path)
    with pytest.raises(SceneArgError):
        get_prim_script(path)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ["/", "/World", "/World/Cube_1", "/_private/x", "/World/"])
def test_good_paths(path: str) -> None:
    assert check_prim_path(path) == (path.rstrip("/") or "/")


@pytest.mark.parametrize("depth", [0, -1, 9, 10**9, True, 1.5, "2", None])
def test_bad_depths(depth: object) -> None:
    with pytest.raises(SceneArgError):
        check_depth(depth)
    with pytest.raises(SceneArgError):
        list_prims_script("/World", depth)  # type: ignore[arg-type]


def test_path_is_embedded_as_one_string_constant() -> None:
    script = get_prim_script("/World/Cube")
    tree = ast.parse(script)
    first = tree.body[0]
    assert isinstance(first, ast.Assign) and isinstance(first.value, ast.Constant)
    assert first.value.value == "/World/Cube"
    # the user value appears exactly once, inside that literal
    assert script.count("/World/Cube") == 1
    script = list_prims_script("/", scene_scripts.MAX_DEPTH)
    tree = ast.parse(script)
    assert isinstance(tree.body[1], ast.Assign) and tree.body[1].value.value == scene_scripts.MAX_DEPTH


def test_scripts_run_in_the_real_sandbox_under_readonly() -> None:
    """The built-in scripts need nothing beyond what `readonly` allows (checked with the worker's executor)."""
    from pxr import Usd, UsdGeom

    from kitgate.sandbox.executor import Executor
    from kitgate.sandbox.policy import load_policy

    stage = Usd.Stage.CreateInMemory()
    UsdGeom.Xform.Define(stage, "/World")
    cube = UsdGeom.Cube.Define(stage, "/World/Cube")
    cube.GetSizeAttr().Set(2.0)
    UsdGeom.XformCommonAPI(cube).SetTranslate((1, 2, 3))
    UsdGeom.Sphere.Define(stage, "/World/Cube/Ball")
    policy = load_policy(scene_scripts.SCENE_POLICY)
    with Executor() as ex:
        def run(script: str) -> dict:
            d = ex.run(script, policy, stage).to_result_dict()
            assert d["status"] == "succeeded", d
            assert not d.get("changed_prims")
            return d["value"]

        summary = run(scene_scripts.scene_summary_script())
        assert summary["prim_count"] == 3 and summary["types"] == {"Xform": 1, "Cube": 1, "Sphere": 1}
        deep = run(list_prims_script("/", 3))
        assert [p["path"] for p in deep["prims"]] == ["/World", "/World/Cube", "/World/Cube/Ball"]
        assert [p["path"] for p in run(list_prims_script("/World", 1))["prims"]] == ["/World/Cube"]
        prim = run(get_prim_script("/World/Cube"))
        assert prim["type"] == "Cube" and prim["attributes"]["size"] == {"type": "double", "value": 2.0}
        assert prim["children"] == ["/World/Cube/Ball"] and prim["xform_ops"] == ["xformOp:translate"]
        assert prim["world_transform"].endswith("(1, 2, 3, 1) )") and prim["world_translation"] == "(1, 2, 3)"
        assert run(get_prim_script("/Nope")) == {"error": "no prim at /Nope"}
