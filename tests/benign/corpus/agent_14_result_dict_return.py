# expect: accept
# what: an agent tool call that edits the scene and returns a structured `result` (and prints a short log).
from pxr import Gf, UsdGeom

requested = {"count": 5, "radius": 3.0, "prefix": "Seat"}
created = []
import math  # agents often import late, next to the code that needs it

for i in range(requested["count"]):
    angle = 2 * math.pi * i / requested["count"]
    path = f"/World/Table/{requested['prefix']}{i}"
    seat = UsdGeom.Cylinder.Define(stage, path)
    seat.CreateRadiusAttr(0.25)
    seat.CreateHeightAttr(0.45)
    seat.AddTranslateOp().Set(Gf.Vec3d(requested["radius"] * math.cos(angle), 0.225,
                                       requested["radius"] * math.sin(angle)))
    created.append(path)

print(f"created {len(created)} seats around the table")
result = {"created": created, "count": len(created), "ok": True}
