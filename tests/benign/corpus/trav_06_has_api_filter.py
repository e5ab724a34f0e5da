# expect: accept
# what: filter prims with HasAPI and list applied schemas.
from pxr import UsdGeom, UsdPhysics

for i in range(4):
    c = UsdGeom.Cube.Define(stage, f"/World/Phys/C{i}")
    if i % 2 == 0:
        UsdPhysics.RigidBodyAPI.Apply(c.GetPrim())
bodies = [p.GetName() for p in stage.Traverse() if p.HasAPI(UsdPhysics.RigidBodyAPI)]
print("rigid bodies:", bodies)
