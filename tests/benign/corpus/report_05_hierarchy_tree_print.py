# expect: accept
# what: print the prim hierarchy as a tree with box-drawing characters, types and kinds (a very common agent tool).
from pxr import Kind, Usd, UsdGeom

UsdGeom.Xform.Define(stage, "/World/Env")
UsdGeom.Xform.Define(stage, "/World/Env/Trees")
for i in range(2):
    UsdGeom.Cone.Define(stage, f"/World/Env/Trees/Tree{i}")
chars = UsdGeom.Xform.Define(stage, "/World/Chars")
Usd.ModelAPI(chars.GetPrim()).SetKind(Kind.Tokens.group)
hero = stage.DefinePrim("/World/Chars/Hero")
hero.GetReferences().AddReference("/tmp/kitgate-benign-assets/robot_arm.usda")


def print_tree(prim, prefix: str = "", is_last: bool = True, max_depth: int = 4, depth: int = 0) -> int:
    connector = "└── " if is_last else "├── "
    kind = Usd.ModelAPI(prim).GetKind()
    label = prim.GetName() + (f" [{prim.GetTypeName()}]" if prim.GetTypeName() else "") + (f" ({kind})" if kind else "")
    print(prefix + connector + label)
    count = 1
    if depth >= max_depth:
        return count
    children = prim.GetChildren()
    for i, child in enumerate(children):
        count += print_tree(child, prefix + ("    " if is_last else "│   "), i == len(children) - 1, max_depth, depth + 1)
    return count


total = print_tree(stage.GetPrimAtPath("/World"))
print(f"{total} prims shown")
