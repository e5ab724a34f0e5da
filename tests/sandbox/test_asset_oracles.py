"""Asset-path oracles: nothing a policy lets a script call may answer "does this host file exist?".

WHY: USD fills in an asset value's `resolvedPath` only when the file exists, and a few APIs go further and
open the file (the shader registry parses it). SECURITY.md promises asset values never reveal host files,
so every reachable API that returns an `Sdf.AssetPath` (or a container of them) or resolves one must go
through the sanitiser, or be unreachable. A hand-kept list of readers gets forgotten; so besides the
attack shapes below, `test_no_allowed_api_is_an_oracle` is generated from the policies: it walks every
(type, attribute) that policies/*.toml make reachable, calls each through the real runtime hooks on a
scene full of asset values that point outside the asset root, once while the target file exists and once
while it does not (each in a fresh process), and fails on any call whose outcome differs. That is the
definition of an oracle, so a new reader or a new policy entry cannot slip past it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
POLICY_DIR = REPO / "src" / "kitgate" / "policies"

# --------------------------------------------------------------------------- the generated probe
# Attribute names that change the scene (or reload it) are not called by the probe: it reads only.
_MUTATING = re.compile(r"^(Set|Create|Clear|Remove|Add|Apply|Define|Block|Load|Unload|Erase|Insert|Transfer|Import|"
                       r"Flatten|Reorder|Connect|Disconnect|Make|Bake|Reset|Include|Exclude|Reload|Schedule|Mute|"
                       r"Unmute|Update|Append|Prepend|Register|Save|Export|Open|Override|Copy|Merge|Move|Rename|"
                       r"Compute(Bound|Local|World|Untransformed|Extent|Points|Transform|Instance|Mass|Xform)|"
                       r"Traverse|CanApply)")
_ARGS: tuple[tuple[Any, ...], ...] = ((), ("glslfx",), ("",), ("identifier",), ("payloadAssetDependencies",),
                                      ("assetInfo",), ("customData",), ("tex",), ("file",), ("inputs:file",),
                                      ("info:glslfx:sourceAsset",), ("primvars:tex",), ("customLayerData",),
                                      ("texture:file",), (0.0,))
_NORMALISE = [(re.compile(r"anon:0x[0-9a-fA-F]+"), "anon:X"), (re.compile(r"0x[0-9a-fA-F]+"), "0xX"),
              # an out-parameter USD leaves uninitialised when there is no source
              (re.compile(r"AttributeType\(\d+\)"), "AttributeType(?)")]


def _scene(target: str) -> str:
    """Every place an asset value can live, all pointing at `target` (outside the asset root)."""
    a = f"@{target}@"
    return f'''#usda 1.0
(
    customLayerData = {{
        asset tex = {a}
    }}
    defaultPrim = "World"
)

def Xform "World" (
    assetInfo = {{
        asset identifier = {a}
        asset[] payloadAssetDependencies = [{a}]
    }}
    customData = {{
        asset tex = {a}
        dictionary nested = {{
            asset tex = {a}
        }}
    }}
    kind = "component"
)
{{
    asset tex = {a}
    asset[] texs = [{a}, {a}]
    asset primvars:tex = {a}
    asset primvars:tex.timeSamples = {{
        1: {a},
    }}

    def Material "Mat"
    {{
        token outputs:surface.connect = </World/Mat/Shader.outputs:surface>

        def Shader "Shader"
        {{
            uniform token info:implementationSource = "sourceAsset"
            uniform asset info:glslfx:sourceAsset = {a}
            asset inputs:file = {a}
            asset[] inputs:files = [{a}]
            token outputs:surface
        }}
    }}

    def DomeLight "Dome"
    {{
        asset inputs:texture:file = {a}
    }}
}}
'''


def _policies(asset_root: str) -> list[Any]:
    from kitgate.sandbox.policy import load_policy

    return [load_policy(p.stem, asset_base=asset_root) for p in sorted(POLICY_DIR.glob("*.toml"))]


def _names_for(policy: Any, t: type) -> list[str]:
    """Every public attribute name of `t` the policy lets a script reach."""
    from kitgate.sandbox.runtime.proxies import qualname

    names: set[str] = set()
    for cls in t.__mro__:
        rule = policy.type_rule(qualname(cls))
        if rule is None:
            continue
        names |= {n for n in dir(t) if not n.startswith("_") and rule.allows(n)}
    return sorted(names)


def _pool(stage: Any) -> list[Any]:
    """One or more live instances of every pxr type the scene offers a script."""
    from pxr import Sdf, Usd, UsdGeom, UsdLux, UsdShade

    pool: list[Any] = [stage, stage.GetRootLayer(), stage.GetSessionLayer(), stage.GetEditTarget()]
    for prim in stage.TraverseAll():
        pool.append(prim)
        pool += list(prim.GetAttributes()) + list(prim.GetRelationships())
        pool += [Usd.ModelAPI(prim), Usd.CollectionAPI(prim, "c"), prim.GetReferences(), prim.GetPayloads(),
                 prim.GetVariantSets(), UsdGeom.PrimvarsAPI(prim), UsdGeom.Xformable(prim), UsdGeom.Imageable(prim),
                 UsdShade.ConnectableAPI(prim), UsdShade.MaterialBindingAPI(prim), UsdShade.NodeDefAPI(prim),
                 UsdShade.CoordSysAPI(prim, "c")]
        pool += list(UsdGeom.PrimvarsAPI(prim).GetPrimvars())
        spec = stage.GetRootLayer().GetPrimAtPath(prim.GetPath())
        if spec is not None:
            pool += [spec] + list(spec.properties)
    shader = UsdShade.Shader(stage.GetPrimAtPath("/World/Mat/Shader"))
    mat = stage.GetPrimAtPath("/World/Mat")
    pool += [shader, UsdShade.Material(mat), UsdShade.NodeGraph(mat)]
    pool += list(shader.GetInputs()) + list(shader.GetOutputs())
    pool += [UsdLux.DomeLight(stage.GetPrimAtPath("/World/Dome")), UsdLux.LightAPI(stage.GetPrimAtPath("/World/Dome"))]
    pool += [stage.GetPrimAtPath("/World").GetAttribute("tex").Get(), Sdf.AssetPath("x")]
    return pool


def _normalised(text: str) -> str:
    for rx, sub in _NORMALISE:
        text = rx.sub(sub, text)
    return text


def _repr(value: Any) -> str:
    """repr, with lists compared as multisets: USD returns some token/layer lists in hash order. Addresses
    are normalised before sorting, so the order cannot follow memory addresses."""
    if type(value) is list:
        return "[" + ", ".join(sorted(_normalised(repr(v)) for v in value)) + "]"
    return repr(value)


def _outcome(fn: Any, args: tuple[Any, ...]) -> str:
    try:
        out = _repr(fn(*args)) if callable(fn) else _repr(fn)
    except BaseException as exc:  # noqa: BLE001 - the outcome of any call is data here
        out = f"{type(exc).__name__}: {exc}"
    return _normalised(out)[:2000]


def _raiser(exc: BaseException) -> Any:
    def fn() -> Any:
        raise exc

    return fn


def probe(target: str, asset_root: str) -> dict[str, str]:
    """Outcome of every allowed read-only call on every pooled object, through the real runtime hooks."""
    from pxr import Usd

    from kitgate.sandbox.runtime.hooks import Hooks, JobContext
    from kitgate.sandbox.runtime.proxies import qualname

    stage = Usd.Stage.CreateInMemory()
    stage.GetRootLayer().ImportFromString(_scene(target))
    results: dict[str, str] = {}
    for policy in _policies(asset_root):
        ctx = JobContext(policy, stage, time.monotonic() + 3600, None)
        getattr_ = Hooks(ctx)._getattr_
        seen: set[tuple[type, str]] = set()
        queue = _pool(stage)
        extra_types: set[type] = set()
        i = 0
        while i < len(queue):
            obj = queue[i]
            i += 1
            t = type(obj)
            for name in _names_for(policy, t):
                if _MUTATING.match(name):
                    continue
                try:
                    attr = getattr_(obj, name)
                except BaseException as exc:  # noqa: BLE001
                    results[f"{policy.name}|{qualname(t)}|{i}|{name}"] = _outcome(_raiser(exc), ())
                    continue
                arg_sets = _ARGS if callable(attr) and not isinstance(attr, type) else ((),)
                for args in arg_sets:
                    key = f"{policy.name}|{qualname(t)}|{i}|{name}|{args!r}"
                    results[key] = _outcome(attr, args) if callable(attr) else _outcome(attr, ())
                    if (t, name) not in seen and callable(attr) and not isinstance(attr, type):
                        try:
                            value = attr(*args)
                        except BaseException:  # noqa: BLE001, S112 - only successful reads add objects
                            continue
                        vt = type(value)
                        if vt.__module__.startswith("pxr") and vt not in extra_types and len(queue) < 2000:
                            extra_types.add(vt)
                            queue.append(value)
                seen.add((t, name))
        ctx.closed = True
    return results


def _run_probe(target: str, asset_root: str) -> dict[str, str]:
    code = (f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import test_asset_oracles as t; "
            "print(json.dumps(t.probe(sys.argv[1], sys.argv[2])))")
    proc = subprocess.run([sys.executable, "-c", code, target, asset_root], capture_output=True, text=True,
                          timeout=600, cwd=asset_root)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_no_allowed_api_is_an_oracle(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "host"
    outside.mkdir()
    target = str(outside / "secret.usda")
    absent = _run_probe(target, str(root))
    Path(target).write_text('#usda 1.0\n(\n    defaultPrim = "S"\n)\ndef Shader "S"\n{\n}\n')
    present = _run_probe(target, str(root))
    assert len(absent) > 1000, "the probe reached too little of the allowed surface"
    assert absent.keys() == present.keys()
    oracles = sorted({k.split("|")[1] + "." + k.split("|")[3] for k in absent if absent[k] != present[k]})
    differing = [k for k in absent if absent[k] != present[k]][:5]
    examples = {k: (absent[k][:300], present[k][:300]) for k in differing}
    assert not oracles, f"these allowed APIs tell whether a host file exists: {oracles}\n{examples}"


# --------------------------------------------------------------------------- attack shapes
@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("oracles")
    root = base / "root"
    root.mkdir()
    host = base / "host"
    host.mkdir()
    (host / "exists.usda").write_text('#usda 1.0\n(\n    defaultPrim = "S"\n)\ndef Shader "S"\n{\n}\n')
    return {"base": base, "root": root, "exists": host / "exists.usda", "missing": host / "missing.usda"}


@pytest.fixture(scope="module")
def ex(layout: dict[str, Path]) -> Any:
    from kitgate.sandbox.executor import Executor

    with Executor(scratch_root=layout["base"] / "scratch") as executor:
        yield executor


ORACLES = {
    # Each shape works on a scratch stage (Usd.Stage.CreateInMemory()), so no delta check masks it.
    "nodedef_source_asset": '''
from pxr import Usd, UsdShade
st = Usd.Stage.CreateInMemory()
sh = UsdShade.Shader.Define(st, "/S")
sh.GetPrim().CreateAttribute("info:glslfx:sourceAsset", Sdf.ValueTypeNames.Asset).Set("TARGET")
sh.GetImplementationSourceAttr().Set("sourceAsset")
result = repr(UsdShade.NodeDefAPI(sh.GetPrim()).GetSourceAsset("glslfx"))
''',
    "nodedef_source_asset_resolved_path": '''
from pxr import Usd, UsdShade
st = Usd.Stage.CreateInMemory()
nd = UsdShade.NodeDefAPI(st.DefinePrim("/S", "Shader"))
nd.SetSourceAsset("TARGET", "glslfx")
result = bool(nd.GetSourceAsset("glslfx").resolvedPath)
''',
    "payload_dependencies_via_import": '''
from pxr import Usd
st = Usd.Stage.CreateInMemory()
st.GetRootLayer().ImportFromString('#usda 1.0\\ndef "M" (\\n    assetInfo = {\\n'
    '        asset[] payloadAssetDependencies = [@TARGET@]\\n    }\\n)\\n{\\n}\\n')
result = repr(list(Usd.ModelAPI(st.GetPrimAtPath("/M")).GetPayloadAssetDependencies()))
''',
    "shader_node_for_source_type": '''
from pxr import Usd, UsdShade
st = Usd.Stage.CreateInMemory()
sh = UsdShade.Shader.Define(st, "/S")
sh.SetSourceAsset("TARGET", "glslfx")
try:
    result = repr(sh.GetShaderNodeForSourceType("glslfx"))
except Exception as e:
    result = str(e)
''',
    "nodedef_shader_node_for_shading_system": '''
from pxr import Usd, UsdShade
st = Usd.Stage.CreateInMemory()
nd = UsdShade.NodeDefAPI(st.DefinePrim("/S", "Shader"))
nd.SetSourceAsset("TARGET", "glslfx")
try:
    result = repr(nd.GetShaderNodeForShadingSystem("glslfx"))
except Exception as e:
    result = str(e)
''',
    "asset_info_via_import": '''
from pxr import Usd
st = Usd.Stage.CreateInMemory()
st.GetRootLayer().ImportFromString('#usda 1.0\\ndef "M" (\\n    assetInfo = {\\n'
    '        asset identifier = @TARGET@\\n    }\\n)\\n{\\n}\\n')
result = repr(st.GetPrimAtPath("/M").GetAssetInfoByKey("identifier"))
''',
}


def _answer(ex: Any, policy: Any, script: str, target: Path) -> str:
    from pxr import Usd

    stage = Usd.Stage.CreateInMemory()
    src = "from pxr import Sdf\n" + script.replace("TARGET", str(target))
    d = ex.run(src, policy, stage).to_result_dict()
    text = json.dumps({k: d[k] for k in ("status", "stdout", "value", "error")})
    return text.replace(str(target), "<target>").replace(target.name, "<name>")


@pytest.mark.parametrize("policy_name", ["scene-edit", "trusted"])
@pytest.mark.parametrize("shape", sorted(ORACLES))
def test_oracle_shape_answers_the_same(shape: str, policy_name: str, layout: dict[str, Path], ex: Any) -> None:
    from kitgate.sandbox.policy import load_policy

    policy = load_policy(policy_name, asset_base=str(layout["root"]))
    old = os.getcwd()
    try:
        os.chdir(layout["base"])
        present = _answer(ex, policy, ORACLES[shape], layout["exists"])
        absent = _answer(ex, policy, ORACLES[shape], layout["missing"])
    finally:
        os.chdir(old)
    assert present == absent, f"{shape} tells whether a host file exists:\n{present}\n{absent}"
