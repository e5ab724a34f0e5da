# expect: accept
# what: physics scene with gravity and falling rigid boxes.
from pxr import UsdGeom, UsdPhysics, Gf

scene = UsdPhysics.Scene.Define(stage, "/World/PhysicsScene")
scene.CreateGravityDirectionAttr(Gf.Vec3f(0, -1, 0))
scene.CreateGravityMagnitudeAttr(981)
for i in range(3):
    box = UsdGeom.Cube.Define(stage, f"/World/Boxes/Box{i}")
    box.AddTranslateOp().Set(Gf.Vec3d(0, 2 + i * 1.1, 0))
    UsdPhysics.RigidBodyAPI.Apply(box.GetPrim())
    UsdPhysics.CollisionAPI.Apply(box.GetPrim())
    mass = UsdPhysics.MassAPI.Apply(box.GetPrim())
    mass.CreateMassAttr(1.0 + i)
print("boxes:", len(stage.GetPrimAtPath("/World/Boxes").GetChildren()))
