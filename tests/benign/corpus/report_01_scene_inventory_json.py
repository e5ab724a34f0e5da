# expect: accept
# what: an agent's "describe the scene" tool: inventory by type, kinds, and bounds, printed as JSON.
import json
from collections import Counter, defaultdict

from pxr import Gf, Usd, UsdGeom

for i, name in enumerate(("Chair", "Lamp", "Rock")):
    xf = UsdGeom.Xform.Define(stage, f"/World/Props/{name}")
    xf.GetPrim().GetReferences().AddReference(f"/tmp/kitgate-benign-assets/{name.lower() if name != 'Rock' else 'rock_payload'}.usda")
    xf.AddTranslateOp().Set(Gf.Vec3d(i * 2.0, 0, 0))


def describe_stage(stage) -> dict:
    by_type = Counter()
    by_kind = defaultdict(list)
    for prim in stage.Traverse():
        by_type[prim.GetTypeName() or "(untyped)"] += 1
        kind = Usd.ModelAPI(prim).GetKind()
        if kind:
            by_kind[kind].append(str(prim.GetPath()))
    cache = UsdGeom.BBoxCache(Usd.TimeCode.Default(), [UsdGeom.Tokens.default_])
    rng = cache.ComputeWorldBound(stage.GetPseudoRoot()).ComputeAlignedRange()
    return {
        "upAxis": UsdGeom.GetStageUpAxis(stage),
        "metersPerUnit": UsdGeom.GetStageMetersPerUnit(stage),
        "primCount": sum(by_type.values()),
        "types": dict(by_type.most_common()),
        "kinds": {k: sorted(v) for k, v in sorted(by_kind.items())},
        "bounds": {"min": [round(v, 3) for v in rng.GetMin()], "max": [round(v, 3) for v in rng.GetMax()]},
    }


print(json.dumps(describe_stage(stage), indent=2))
