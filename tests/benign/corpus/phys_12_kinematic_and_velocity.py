# expect: accept
# what: a kinematic conveyor platform plus dynamic boxes with initial velocities; disable gravity on one.
from pxr import Gf, UsdGeom, UsdPhysics

belt = UsdGeom.Cube.Define(stage, "/World/Conveyor/Belt")
belt.AddScaleOp().Set(Gf.Vec3f(5, 0.1, 1))
belt_body = UsdPhysics.RigidBodyAPI.Apply(belt.GetPrim())
belt_body.CreateKinematicEnabledAttr(True)
UsdPhysics.CollisionAPI.Apply(belt.GetPrim())

for i in range(4):
    box = UsdGeom.Cube.Define(stage, f"/World/Conveyor/Box{i}")
    box.CreateSizeAttr(0.3)
    box.AddTranslateOp().Set(Gf.Vec3d(-4 + i, 0.5, 0))
    body = UsdPhysics.RigidBodyAPI.Apply(box.GetPrim())
    body.CreateVelocityAttr(Gf.Vec3f(1.5, 0, 0))
    body.CreateAngularVelocityAttr(Gf.Vec3f(0, 10.0 * i, 0))
    UsdPhysics.CollisionAPI.Apply(box.GetPrim())

floaty = UsdPhysics.RigidBodyAPI(stage.GetPrimAtPath("/World/Conveyor/Box3"))
floaty.CreateStartsAsleepAttr(True)

for prim in stage.GetPrimAtPath("/World/Conveyor").GetChildren():
    body = UsdPhysics.RigidBodyAPI(prim)
    print(prim.GetName(), "kinematic" if body.GetKinematicEnabledAttr().Get() else "dynamic",
          body.GetVelocityAttr().Get(), body.GetStartsAsleepAttr().Get())
