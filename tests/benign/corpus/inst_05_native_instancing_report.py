# expect: accept
# what: instance the robot arm asset in a grid and report instance proxies under each instance.
from pxr import Gf, Usd, UsdGeom

ARM = "/tmp/kitgate-benign-assets/robot_arm.usda"
for row in range(2):
    for col in range(3):
        cell = UsdGeom.Xform.Define(stage, f"/World/Factory/Cell_{row}_{col}")
        cell.AddTranslateOp().Set(Gf.Vec3d(col * 2.0, 0, row * 2.0))
        arm = stage.DefinePrim(cell.GetPath().AppendChild("Arm"))
        arm.GetReferences().AddReference(ARM)
        arm.SetInstanceable(True)

proxies = list(Usd.PrimRange(stage.GetPrimAtPath("/World/Factory"), Usd.TraverseInstanceProxies()))
geo = [p for p in proxies if p.IsInstanceProxy() and p.GetName() == "Geo"]
print("instances:", sum(1 for p in stage.Traverse() if p.IsInstance()))
print("proxy prims:", sum(1 for p in proxies if p.IsInstanceProxy()))
print("geo prims via proxies:", len(geo))
print("prototype count:", len(stage.GetPrototypes()))
