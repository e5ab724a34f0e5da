# expect: accept
# what: traversal with pruning of invisible subtrees, plus counting inactive prims via predicates.
from pxr import Usd, UsdGeom

for group in ("Visible", "Hidden", "Disabled"):
    for i in range(3):
        UsdGeom.Cube.Define(stage, f"/World/{group}/Box{i}")
UsdGeom.Imageable(stage.GetPrimAtPath("/World/Hidden")).MakeInvisible()
stage.GetPrimAtPath("/World/Disabled").SetActive(False)

shown = []
it = iter(Usd.PrimRange(stage.GetPrimAtPath("/World")))
for prim in it:
    if UsdGeom.Imageable(prim).ComputeVisibility() == UsdGeom.Tokens.invisible:
        it.PruneChildren()
        continue
    if prim.IsA(UsdGeom.Cube):
        shown.append(str(prim.GetPath()))

all_prims = list(Usd.PrimRange(stage.GetPseudoRoot(), Usd.PrimAllPrimsPredicate))
print("shown cubes:", shown)
print("inactive:", [str(p.GetPath()) for p in all_prims if not p.IsActive()])
print("total incl. inactive:", len(all_prims), "default traversal:", len(list(stage.Traverse())))
