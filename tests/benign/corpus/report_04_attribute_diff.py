# expect: accept
# what: snapshot attribute values, apply a batch edit, and print a diff of what changed (like a review tool).
import copy

from pxr import Gf, UsdGeom


def snapshot(stage, root="/World"):
    values = {}
    for prim in stage.GetPrimAtPath(root).GetAllChildren():
        for attr in prim.GetAuthoredAttributes():
            values[f"{prim.GetPath()}.{attr.GetName()}"] = attr.Get()
    return values


for i in range(4):
    c = UsdGeom.Cube.Define(stage, f"/World/Box{i}")
    c.CreateSizeAttr(1.0)
    c.AddTranslateOp().Set(Gf.Vec3d(i, 0, 0))

before = snapshot(stage)
frozen = copy.deepcopy({k: str(v) for k, v in before.items()})

for prim in stage.GetPrimAtPath("/World").GetChildren():
    if prim.GetName() in ("Box1", "Box3"):
        UsdGeom.Cube(prim).GetSizeAttr().Set(2.0)
    if prim.GetName() == "Box2":
        UsdGeom.Cube(prim).CreatePurposeAttr(UsdGeom.Tokens.proxy)

after = snapshot(stage)
for key in sorted(set(before) | set(after)):
    old, new = frozen.get(key), str(after[key]) if key in after else None
    if old != new:
        print(f"{key}: {old} -> {new}")
print("unchanged:", sum(1 for k in before if str(after.get(k)) == frozen[k]))
