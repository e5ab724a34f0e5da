# expect: accept
# what: payload heavy rocks, load only the near ones (distance rule), report loaded vs unloaded.
import math

from pxr import Gf, Usd, UsdGeom

ROCK = "/tmp/kitgate-benign-assets/rock_payload.usda"
for i in range(8):
    angle = i * math.tau / 8
    dist = 5 + i * 3
    rock = UsdGeom.Xform.Define(stage, f"/World/Rocks/Rock{i}")
    rock.GetPrim().GetPayloads().AddPayload(ROCK)
    rock.AddTranslateOp().Set(Gf.Vec3d(dist * math.cos(angle), 0, dist * math.sin(angle)))

stage.Unload("/World/Rocks")
camera_pos = Gf.Vec3d(0, 0, 0)
for prim in stage.GetPrimAtPath("/World/Rocks").GetAllChildren():
    pos = UsdGeom.Xformable(prim).ComputeLocalToWorldTransform(Usd.TimeCode.Default()).ExtractTranslation()
    if (pos - camera_pos).GetLength() < 15:
        stage.Load(prim.GetPath())

loaded = sorted(str(p.name) for p in stage.GetLoadSet())
print("loaded:", loaded)
print("has payload:", all(p.HasPayload() for p in stage.GetPrimAtPath("/World/Rocks").GetAllChildren()))
print("geo under Rock0:", bool(stage.GetPrimAtPath("/World/Rocks/Rock0/Geo")))
print("geo under Rock7:", bool(stage.GetPrimAtPath("/World/Rocks/Rock7/Geo")))
