# expect: accept
# what: collision groups so debris does not collide with itself but hits the environment.
from pxr import UsdGeom, UsdPhysics

env = UsdPhysics.CollisionGroup.Define(stage, "/World/CollisionGroups/Environment")
debris = UsdPhysics.CollisionGroup.Define(stage, "/World/CollisionGroups/Debris")

UsdPhysics.CollisionAPI.Apply(stage.GetPrimAtPath("/World/Ground"))
env.GetCollidersCollectionAPI().GetIncludesRel().AddTarget("/World/Ground")

for i in range(8):
    chunk = UsdGeom.Cube.Define(stage, f"/World/Debris/Chunk{i}")
    chunk.CreateSizeAttr(0.2 + 0.05 * i)
    UsdPhysics.RigidBodyAPI.Apply(chunk.GetPrim())
    UsdPhysics.CollisionAPI.Apply(chunk.GetPrim())
debris.GetCollidersCollectionAPI().GetIncludesRel().AddTarget("/World/Debris")
debris.CreateFilteredGroupsRel().AddTarget(debris.GetPath())

query = debris.GetCollidersCollectionAPI().ComputeMembershipQuery()
members = [p.GetName() for p in stage.Traverse() if query.IsPathIncluded(p.GetPath()) and p.HasAPI(UsdPhysics.CollisionAPI)]
print("debris colliders:", len(members))
print("debris filters:", [t.name for t in debris.GetFilteredGroupsRel().GetTargets()])
print("env includes:", [str(t) for t in env.GetCollidersCollectionAPI().GetIncludesRel().GetTargets()])
