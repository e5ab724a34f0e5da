# expect: accept
# what: orient a satellite between two attitudes with quaternion slerp keys (orient op), sampled every 5 frames.
from pxr import Gf, UsdGeom

sat = UsdGeom.Xform.Define(stage, "/World/Satellite")
orient = sat.AddOrientOp(UsdGeom.XformOp.PrecisionFloat)
q_start = Gf.Rotation(Gf.Vec3d(0, 1, 0), 0).GetQuat()
q_end = Gf.Rotation(Gf.Vec3d(1, 1, 0).GetNormalized(), 170).GetQuat()

for frame in range(0, 51, 5):
    t = frame / 50.0
    q = Gf.Slerp(t, q_start, q_end)
    orient.Set(Gf.Quatf(q), frame)

for frame in (0, 25, 50):
    q = orient.Get(frame)
    angle = Gf.Rotation(Gf.Quatd(q)).GetAngle()
    print(f"frame {frame}: angle {angle:7.3f} real {q.GetReal():+.4f}")
print("keys:", len(orient.GetAttr().GetTimeSamples()))
