# expect: accept
# what: a drawer on a prismatic joint with limits and a linear drive, and a door on a revolute joint.
from pxr import Gf, UsdGeom, UsdPhysics

cabinet = UsdGeom.Cube.Define(stage, "/World/Cabinet/Body")
UsdPhysics.CollisionAPI.Apply(cabinet.GetPrim())

drawer = UsdGeom.Cube.Define(stage, "/World/Cabinet/Drawer")
drawer.AddTranslateOp().Set(Gf.Vec3d(0, 0.3, 0.1))
drawer.AddScaleOp().Set(Gf.Vec3f(0.9, 0.2, 0.9))
UsdPhysics.RigidBodyAPI.Apply(drawer.GetPrim())
UsdPhysics.CollisionAPI.Apply(drawer.GetPrim())

slide = UsdPhysics.PrismaticJoint.Define(stage, "/World/Cabinet/DrawerSlide")
slide.CreateBody0Rel().SetTargets([cabinet.GetPath()])
slide.CreateBody1Rel().SetTargets([drawer.GetPath()])
slide.CreateAxisAttr(UsdPhysics.Tokens.z)
slide.CreateLowerLimitAttr(0.0)
slide.CreateUpperLimitAttr(0.45)
drive = UsdPhysics.DriveAPI.Apply(slide.GetPrim(), UsdPhysics.Tokens.linear)
drive.CreateTypeAttr(UsdPhysics.Tokens.force)
drive.CreateStiffnessAttr(50.0)
drive.CreateDampingAttr(5.0)
drive.CreateTargetPositionAttr(0.3)

door = UsdGeom.Cube.Define(stage, "/World/Cabinet/Door")
UsdPhysics.RigidBodyAPI.Apply(door.GetPrim())
hinge = UsdPhysics.RevoluteJoint.Define(stage, "/World/Cabinet/DoorHinge")
hinge.CreateBody0Rel().SetTargets([cabinet.GetPath()])
hinge.CreateBody1Rel().SetTargets([door.GetPath()])
hinge.CreateAxisAttr("Y")
hinge.CreateLowerLimitAttr(-110.0)
hinge.CreateUpperLimitAttr(0.0)
hinge.CreateLocalPos0Attr(Gf.Vec3f(0.5, 0, 0.5))

for joint in (slide, hinge):
    print(joint.GetPrim().GetTypeName(), joint.GetPath().name, joint.GetAxisAttr().Get(),
          (joint.GetLowerLimitAttr().Get(), joint.GetUpperLimitAttr().Get()))
print("drive schemas:", slide.GetPrim().GetAppliedSchemas())
