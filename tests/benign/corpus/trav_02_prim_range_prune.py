# expect: accept
# what: Usd.PrimRange with pruning of a subtree.
from pxr import Usd, UsdGeom

UsdGeom.Xform.Define(stage, "/World/Keep/A")
UsdGeom.Xform.Define(stage, "/World/Skip/B")
UsdGeom.Xform.Define(stage, "/World/Skip/C")
visited = []
it = iter(Usd.PrimRange(stage.GetPseudoRoot()))
for prim in it:
    if prim.GetName() == "Skip":
        it.PruneChildren()
    visited.append(prim.GetName())
print(visited)
