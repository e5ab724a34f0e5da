# expect: accept
# what: convert a set of hand-placed duplicate prims into a PointInstancer (a common optimisation request).
from pxr import Gf, Usd, UsdGeom, Vt

for i in range(12):
    lamp = UsdGeom.Sphere.Define(stage, f"/World/StreetLamps/Lamp_{i:02d}")
    lamp.CreateRadiusAttr(0.3)
    lamp.AddTranslateOp().Set(Gf.Vec3d(i * 5.0, 4.0, (i % 2) * 12.0))

source = stage.GetPrimAtPath("/World/StreetLamps")
positions = []
for child in source.GetChildren():
    m = UsdGeom.Xformable(child).ComputeLocalToWorldTransform(Usd.TimeCode.Default())
    positions.append(Gf.Vec3f(m.ExtractTranslation()))

inst = UsdGeom.PointInstancer.Define(stage, "/World/StreetLampsInstanced")
proto = UsdGeom.Sphere.Define(stage, "/World/StreetLampsInstanced/Prototypes/Lamp")
proto.CreateRadiusAttr(0.3)
inst.CreatePrototypesRel().AddTarget(proto.GetPath())
inst.CreatePositionsAttr(Vt.Vec3fArray(positions))
inst.CreateProtoIndicesAttr(Vt.IntArray([0] * len(positions)))
source.SetActive(False)

print("converted", len(positions), "prims to one instancer")
print("source active:", source.IsActive())
print("last position:", inst.GetPositionsAttr().Get()[-1])
