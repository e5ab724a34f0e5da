# expect: accept
# what: instanceable references to a robot arm asset.
from pxr import UsdGeom, Gf

for i in range(3):
    arm = UsdGeom.Xform.Define(stage, f"/World/Cell/Arm{i}")
    arm.GetPrim().GetReferences().AddReference("/tmp/kitgate-benign-assets/robot_arm.usda")
    arm.GetPrim().SetInstanceable(True)
    arm.AddTranslateOp().Set(Gf.Vec3d(0, i * 1.0, 0))
print("instances:", [p.IsInstance() for p in stage.GetPrimAtPath("/World/Cell").GetChildren()])
