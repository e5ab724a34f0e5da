# expect: accept
# what: two bodies linked by a revolute joint with limits.
from pxr import UsdGeom, UsdPhysics, Gf

a = UsdGeom.Cube.Define(stage, "/World/Hinge/Frame")
b = UsdGeom.Cube.Define(stage, "/World/Hinge/Door")
for p in (a, b):
    UsdPhysics.RigidBodyAPI.Apply(p.GetPrim())
joint = UsdPhysics.RevoluteJoint.Define(stage, "/World/Hinge/Joint")
joint.CreateBody0Rel().SetTargets([a.GetPath()])
joint.CreateBody1Rel().SetTargets([b.GetPath()])
joint.CreateAxisAttr("Y")
joint.CreateLowerLimitAttr(-90)
joint.CreateUpperLimitAttr(90)
joint.CreateLocalPos0Attr(Gf.Vec3f(0.5, 0, 0))
print(joint.GetBody1Rel().GetTargets())
