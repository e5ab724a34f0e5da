# expect: accept
# what: set up a physics scene (gravity from upAxis and metersPerUnit) and a stack of rigid boxes.
from pxr import Gf, UsdGeom, UsdPhysics

meters_per_unit = UsdGeom.GetStageMetersPerUnit(stage)
up = UsdGeom.GetStageUpAxis(stage)
scene = UsdPhysics.Scene.Define(stage, "/World/PhysicsScene")
scene.CreateGravityDirectionAttr(Gf.Vec3f(0, -1, 0) if up == UsdGeom.Tokens.y else Gf.Vec3f(0, 0, -1))
scene.CreateGravityMagnitudeAttr(9.81 / meters_per_unit)

UsdPhysics.CollisionAPI.Apply(stage.GetPrimAtPath("/World/Ground"))

box_size = 50.0  # centimetres: the stage is in cm
for level in range(5):
    box = UsdGeom.Cube.Define(stage, f"/World/Stack/Box{level}")
    box.CreateSizeAttr(box_size)
    box.AddTranslateOp().Set(Gf.Vec3d(0, box_size * (level + 0.5), 0))
    UsdPhysics.RigidBodyAPI.Apply(box.GetPrim())
    UsdPhysics.CollisionAPI.Apply(box.GetPrim())
    mass = UsdPhysics.MassAPI.Apply(box.GetPrim())
    mass.CreateMassAttr(2.0)

print("up axis", up, "meters/unit", meters_per_unit)
print("gravity", scene.GetGravityDirectionAttr().Get(), round(scene.GetGravityMagnitudeAttr().Get(), 2))
bodies = [p.GetName() for p in stage.Traverse() if p.HasAPI(UsdPhysics.RigidBodyAPI)]
print("rigid bodies:", bodies)
