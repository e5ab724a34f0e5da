# expect: accept
# what: namedtuples for light records, sorted by several keys with operator.itemgetter / attrgetter.
from collections import namedtuple
from operator import attrgetter

from pxr import Gf, UsdGeom, UsdLux

LightRecord = namedtuple("LightRecord", ["name", "type", "intensity", "height"])

for name, cls, intensity, y in [("A", UsdLux.SphereLight, 300, 2.0), ("B", UsdLux.RectLight, 900, 3.0),
                                ("C", UsdLux.SphereLight, 300, 1.0), ("D", UsdLux.DiskLight, 1200, 3.5)]:
    light = cls.Define(stage, f"/World/Lights/{name}")
    light.CreateIntensityAttr(float(intensity))
    UsdGeom.Xformable(light).AddTranslateOp().Set(Gf.Vec3d(0, y, 0))

records = []
for prim in stage.GetPrimAtPath("/World/Lights").GetChildren():
    height = UsdGeom.Xformable(prim).GetLocalTransformation().ExtractTranslation()[1]
    records.append(LightRecord(prim.GetName(), prim.GetTypeName(), UsdLux.LightAPI(prim).GetIntensityAttr().Get(), height))

for rec in sorted(records, key=attrgetter("intensity", "height")):
    print(rec)
brightest = max(records, key=attrgetter("intensity"))
print("brightest:", brightest.name, brightest._asdict() if hasattr(brightest, "_asdict") else brightest)
