"""Unit tests of what a script holds instead of the real thing (runtime/proxies.py): type names,
module and callable stand-ins, the checked sublayer list and the method-guard table.

Why: policies name types by `qualname`, so a change there silently changes every decision; the
stand-ins must not hand out what they wrap; and the guard table must name methods that exist (a
misspelt entry guards nothing). Real pxr objects and real policies throughout.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pxr import Sdf, Usd

from kitgate.sandbox.policy import load_policy
from kitgate.sandbox.runtime.assets import AssetDenied
from kitgate.sandbox.runtime.guards import SandboxDenied
from kitgate.sandbox.runtime.hooks import JobContext
from kitgate.sandbox.runtime.proxies import METHOD_GUARDS, GuardedCallable, ModuleProxy, SubLayerList, qualname


def test_qualname_is_the_name_policies_use() -> None:
    assert qualname(Sdf.Path) == "pxr.Sdf.Path"
    assert qualname(Usd.Stage) == "pxr.Usd.Stage"
    assert qualname(int) == "builtins.int"
    layer = Sdf.Layer.CreateAnonymous(".usda")
    Sdf.CreatePrimInLayer(layer, "/A")
    children = type(layer.pseudoRoot.nameChildren)  # wrapped lazily, filed under whatever module ran
    assert qualname(children).startswith("pxr.Sdf.ChildrenProxy_")


def test_module_proxy_is_a_name_table_only() -> None:
    proxy = ModuleProxy("math")
    assert repr(proxy) == "<module 'math' (sandboxed)>"
    assert not hasattr(proxy, "__dict__")  # slots: no place to hang the real module
    with pytest.raises(AttributeError):
        proxy.sqrt  # noqa: B018 - names live in _kg_values, handed out by the runtime's getattr


def test_guarded_callable_calls_its_check_not_the_wrapped() -> None:
    calls: list[tuple[object, ...]] = []

    def check(*args: object) -> str:
        calls.append(args)
        return "checked"

    stand_in = GuardedCallable(Sdf.Reference, check, "Sdf.Reference")
    assert stand_in("a.usda") == "checked" and calls == [("a.usda",)]
    assert repr(stand_in) == "<Sdf.Reference (sandboxed)>"
    assert not hasattr(stand_in, "__dict__")


def _context(policy_name: str, asset_root: Path) -> tuple[JobContext, Sdf.Layer]:
    policy = load_policy(policy_name, asset_base=asset_root)
    stage = Usd.Stage.CreateInMemory()
    return JobContext(policy, stage, time.monotonic() + 60, 0), stage.GetRootLayer()


def test_sublayer_list_checks_every_inserted_path(tmp_path: Path) -> None:
    inside = tmp_path / "inside.usda"
    Sdf.Layer.CreateNew(str(inside)).Save()
    ctx, layer = _context("scene-edit", tmp_path)
    sublayers = SubLayerList(ctx, layer)
    sublayers.append(str(inside))
    assert list(layer.subLayerPaths) == [str(inside)] and sublayers == [str(inside)]
    with pytest.raises(AssetDenied):
        sublayers.append("/etc/passwd")
    with pytest.raises(AssetDenied):
        sublayers.insert(0, "inside.usda")  # relative: must be given absolute, under the roots
    assert len(sublayers) == 1


def test_sublayer_list_is_read_only_without_the_settable_rule(tmp_path: Path) -> None:
    ctx, layer = _context("readonly", tmp_path)
    sublayers = SubLayerList(ctx, layer)
    with pytest.raises(SandboxDenied, match="sublayers cannot be edited"):
        sublayers.append(str(tmp_path / "x.usda"))
    with pytest.raises(SandboxDenied):
        sublayers.clear()
    assert list(sublayers) == []


# Guards for methods this usd-core does not have but other USD builds (Kit's) may: kept on purpose.
_OTHER_USD_BUILDS = {"pxr.Sdf.Layer.InsertSubLayerPath", "pxr.UsdShade.Output.Get"}


def _with_subclasses(t: type) -> list[type]:
    out = [t]
    for sub in t.__subclasses__():
        out += _with_subclasses(sub)
    return out


def test_every_method_guard_names_a_real_type_and_attribute() -> None:
    """A guard on a base type covers its subclasses (`SchemaBase.Define` is `Xform.Define`...), so the
    attribute must exist on the type or on one of its subclasses."""
    import importlib

    from pxr import UsdGeom, UsdLux, UsdShade  # noqa: F401 - their schema classes are the subclasses

    missing = []
    for module_type, attr in METHOD_GUARDS:
        _pxr, module, *path = module_type.split(".")
        owner = importlib.import_module(f"pxr.{module}")
        for part in path:
            owner = getattr(owner, part)  # the type itself must exist: a misspelt type guards nothing
        if f"{module_type}.{attr}" not in _OTHER_USD_BUILDS and not any(
                attr in dir(t) for t in _with_subclasses(owner)):
            missing.append(f"{module_type}.{attr}")
    assert not missing, f"guards for names pxr does not have (they guard nothing): {missing}"
