# expect: accept
# what: a wheeled cart articulation: ArticulationRootAPI on the chassis, revolute wheels with angular drives.
from pxr import Gf, UsdGeom, UsdPhysics

cart = UsdGeom.Xform.Define(stage, "/World/Cart")
UsdPhysics.ArticulationRootAPI.Apply(cart.GetPrim())
chassis = UsdGeom.Cube.Define(stage, "/World/Cart/Chassis")
chassis.AddScaleOp().Set(Gf.Vec3f(1.0, 0.2, 0.6))
UsdPhysics.RigidBodyAPI.Apply(chassis.GetPrim())
UsdPhysics.MassAPI.Apply(chassis.GetPrim()).CreateMassAttr(20.0)

wheel_positions = {"FL": (0.8, -0.2, 0.65), "FR": (0.8, -0.2, -0.65), "RL": (-0.8, -0.2, 0.65), "RR": (-0.8, -0.2, -0.65)}
for name, pos in wheel_positions.items():
    wheel = UsdGeom.Cylinder.Define(stage, f"/World/Cart/Wheel_{name}")
    wheel.CreateAxisAttr(UsdGeom.Tokens.z)
    wheel.CreateRadiusAttr(0.3)
    wheel.CreateHeightAttr(0.1)
    wheel.AddTranslateOp().Set(Gf.Vec3d(*pos))
    UsdPhysics.RigidBodyAPI.Apply(wheel.GetPrim())
    UsdPhysics.CollisionAPI.Apply(wheel.GetPrim())
    axle = UsdPhysics.RevoluteJoint.Define(stage, f"/World/Cart/Axle_{name}")
    axle.CreateAxisAttr(UsdPhysics.Tokens.z)
    axle.CreateBody0Rel().SetTargets([chassis.GetPath()])
    axle.CreateBody1Rel().SetTargets([wheel.GetPath()])
    axle.CreateLocalPos0Attr(Gf.Vec3f(*pos))
    if name.startswith("R"):
        drive = UsdPhysics.DriveAPI.Apply(axle.GetPrim(), UsdPhysics.Tokens.angular)
        drive.CreateTargetVelocityAttr(180.0)
        drive.CreateDampingAttr(1000.0)

fixed = UsdPhysics.FixedJoint.Define(stage, "/World/Cart/AnchorToWorld")
fixed.CreateBody1Rel().SetTargets([chassis.GetPath()])
fixed.CreateJointEnabledAttr(False)

joints = [p for p in stage.Traverse() if p.IsA(UsdPhysics.Joint)]
driven = [p.GetName() for p in joints if p.HasAPI(UsdPhysics.DriveAPI, UsdPhysics.Tokens.angular)]
print("articulation root:", cart.GetPrim().HasAPI(UsdPhysics.ArticulationRootAPI))
print("joints:", len(joints), "driven:", driven)
