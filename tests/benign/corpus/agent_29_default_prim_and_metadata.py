# expect: accept
# what: conform stage metadata for delivery: default prim, up axis, units, doc string, with a before/after printout.
from pxr import Sdf, UsdGeom


def stage_info(stage) -> dict:
    return {
        "defaultPrim": stage.GetDefaultPrim().GetName() if stage.GetDefaultPrim() else None,
        "upAxis": UsdGeom.GetStageUpAxis(stage),
        "metersPerUnit": UsdGeom.GetStageMetersPerUnit(stage),
        "doc": stage.GetRootLayer().documentation or None,
    }


before = stage_info(stage)
asset = UsdGeom.Xform.Define(stage, "/Asset")
Sdf.CopySpec(stage.GetRootLayer(), "/World/Ground", stage.GetRootLayer(), "/Asset/Ground")
stage.SetDefaultPrim(asset.GetPrim())
UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
UsdGeom.SetStageMetersPerUnit(stage, UsdGeom.LinearUnits.meters)
stage.GetRootLayer().documentation = "Delivered asset, Z-up, metres"
after = stage_info(stage)

for key in before:
    marker = "*" if before[key] != after[key] else " "
    print(f"{marker} {key:14s} {before[key]!s:>10} -> {after[key]}")
print("asset children:", [c.GetName() for c in asset.GetPrim().GetChildren()])
