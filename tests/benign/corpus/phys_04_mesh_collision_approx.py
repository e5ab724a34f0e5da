# expect: accept
# what: mesh collider with convex-hull approximation and a fixed joint.
from pxr import UsdGeom, UsdPhysics

rock = UsdGeom.Mesh.Define(stage, "/World/RockCollider")
rock.CreatePointsAttr([(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1)])
rock.CreateFaceVertexCountsAttr([3, 3, 3, 3])
rock.CreateFaceVertexIndicesAttr([0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3])
UsdPhysics.CollisionAPI.Apply(rock.GetPrim())
mc = UsdPhysics.MeshCollisionAPI.Apply(rock.GetPrim())
mc.CreateApproximationAttr(UsdPhysics.Tokens.convexHull)
fixed = UsdPhysics.FixedJoint.Define(stage, "/World/Weld")
fixed.CreateBody0Rel().SetTargets([rock.GetPath()])
print(mc.GetApproximationAttr().Get())
