# expect: accept
# what: a furniture layout using instanceable references to the chair asset, then inspect the prototypes.
from pxr import Gf, UsdGeom

CHAIR = "/tmp/kitgate-benign-assets/chair.usda"
table = UsdGeom.Cube.Define(stage, "/World/Dining/Table")
table.AddScaleOp().Set(Gf.Vec3f(2.0, 0.05, 1.0))

seats = [(-0.6, -0.8, 0), (0.6, -0.8, 0), (-0.6, 0.8, 180), (0.6, 0.8, 180)]
for i, (x, z, yaw) in enumerate(seats):
    chair = UsdGeom.Xform.Define(stage, f"/World/Dining/Chair_{i}")
    chair.GetPrim().GetReferences().AddReference(CHAIR)
    chair.GetPrim().SetInstanceable(True)
    chair.AddTranslateOp().Set(Gf.Vec3d(x, 0, z))
    chair.AddRotateYOp().Set(float(yaw))

instances = [p for p in stage.Traverse() if p.IsInstance()]
prototypes = stage.GetPrototypes()
print("instances:", len(instances), "prototypes:", len(prototypes))
print("same prototype:", len({str(p.GetPrototype().GetPath()) for p in instances}) == 1)
print("children of prototype:", sorted(c.GetName() for c in prototypes[0].GetChildren()))
