# expect: accept
# what: a simple chain (rope) of capsules linked by spherical joints with cone limits, built in a loop.
from pxr import Gf, UsdGeom, UsdPhysics

SEGMENTS, LENGTH = 6, 0.4
root = UsdGeom.Xform.Define(stage, "/World/Rope")
previous = None
for i in range(SEGMENTS):
    seg = UsdGeom.Capsule.Define(stage, f"/World/Rope/Seg{i}")
    seg.CreateHeightAttr(LENGTH)
    seg.CreateRadiusAttr(0.05)
    seg.CreateAxisAttr(UsdGeom.Tokens.y)
    seg.AddTranslateOp().Set(Gf.Vec3d(0, 3.0 - i * LENGTH, 0))
    UsdPhysics.RigidBodyAPI.Apply(seg.GetPrim())
    UsdPhysics.CollisionAPI.Apply(seg.GetPrim())
    if previous is not None:
        joint = UsdPhysics.SphericalJoint.Define(stage, f"/World/Rope/Joint{i}")
        joint.CreateBody0Rel().SetTargets([previous.GetPath()])
        joint.CreateBody1Rel().SetTargets([seg.GetPath()])
        joint.CreateLocalPos0Attr(Gf.Vec3f(0, -LENGTH / 2, 0))
        joint.CreateLocalPos1Attr(Gf.Vec3f(0, LENGTH / 2, 0))
        joint.CreateConeAngle0LimitAttr(30.0)
        joint.CreateConeAngle1LimitAttr(30.0)
    previous = seg

joints = [p for p in root.GetPrim().GetChildren() if p.IsA(UsdPhysics.SphericalJoint)]
print(f"{SEGMENTS} segments, {len(joints)} joints")
print("first joint bodies:", UsdPhysics.Joint(joints[0]).GetBody0Rel().GetTargets(),
      UsdPhysics.Joint(joints[0]).GetBody1Rel().GetTargets())
