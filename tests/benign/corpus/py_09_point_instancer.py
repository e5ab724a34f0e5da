# expect: accept
# what: a UsdGeom.PointInstancer with prototypes, indices and positions.
from pxr import UsdGeom, Vt, Gf

inst = UsdGeom.PointInstancer.Define(stage, "/World/Forest")
protos = inst.CreatePrototypesRel()
for name in ("Pine", "Oak"):
    p = UsdGeom.Cone.Define(stage, f"/World/Forest/Prototypes/{name}")
    protos.AddTarget(p.GetPath())
positions = [Gf.Vec3f(x * 3.0, 0, z * 3.0) for x in range(4) for z in range(4)]
inst.CreatePositionsAttr(Vt.Vec3fArray(positions))
inst.CreateProtoIndicesAttr(Vt.IntArray([(i % 2) for i in range(len(positions))]))
print(len(inst.GetPositionsAttr().Get()), "instances of", len(protos.GetTargets()), "prototypes")
