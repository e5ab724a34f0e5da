# expect: accept
# what: a PointInstancer with ids, then hide some instances by id (invisibleIds) and deactivate others.
from pxr import Gf, UsdGeom, Vt

inst = UsdGeom.PointInstancer.Define(stage, "/World/Fence")
post = UsdGeom.Cylinder.Define(stage, "/World/Fence/Prototypes/Post")
post.CreateHeightAttr(1.2)
inst.CreatePrototypesRel().AddTarget(post.GetPath())

n = 20
inst.CreatePositionsAttr(Vt.Vec3fArray([Gf.Vec3f(i * 0.8, 0.6, 0) for i in range(n)]))
inst.CreateProtoIndicesAttr(Vt.IntArray([0] * n))
inst.CreateIdsAttr(Vt.Int64Array([1000 + i for i in range(n)]))

broken = [1003, 1004, 1011]
inst.CreateInvisibleIdsAttr(Vt.Int64Array(broken))
inst.DeactivateIds([1017, 1018])

mask = inst.ComputeMaskAtTime(0)
print("ids:", len(inst.GetIdsAttr().Get()))
print("invisible:", list(inst.GetInvisibleIdsAttr().Get()))
print("inactive:", list(inst.GetInactiveIdsListOp().GetAddedOrExplicitItems())
      if hasattr(inst, "GetInactiveIdsListOp") else inst.GetPrim().GetMetadata("inactiveIds"))
print("active mask count:", sum(1 for m in mask if m))
