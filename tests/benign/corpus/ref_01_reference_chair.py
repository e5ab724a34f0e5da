# expect: accept
# what: reference a chair asset from the asset root several times.
from pxr import UsdGeom, Gf

for i in range(4):
    chair = UsdGeom.Xform.Define(stage, f"/World/Chairs/Chair_{i}")
    chair.GetPrim().GetReferences().AddReference("/tmp/kitgate-benign-assets/chair.usda")
    chair.AddTranslateOp().Set(Gf.Vec3d(i * 1.5, 0, 0))
print([str(p.GetPath()) for p in stage.GetPrimAtPath("/World/Chairs/Chair_0").GetChildren()])
