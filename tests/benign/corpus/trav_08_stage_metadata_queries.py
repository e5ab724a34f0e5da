# expect: accept
# what: query and set stage-level metadata (up axis, units, time codes).
from pxr import UsdGeom

print("up axis:", UsdGeom.GetStageUpAxis(stage))
print("meters per unit:", UsdGeom.GetStageMetersPerUnit(stage))
UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
UsdGeom.SetStageMetersPerUnit(stage, UsdGeom.LinearUnits.meters)
stage.SetFramesPerSecond(30)
print(stage.GetFramesPerSecond(), UsdGeom.GetStageUpAxis(stage))
