# expect: accept
# what: print an indented tree of the stage, the way people inspect a scene.
from pxr import Usd


def walk(prim: Usd.Prim, depth: int = 0) -> None:
    print("  " * depth + f"{prim.GetName()} <{prim.GetTypeName()}>")
    for child in prim.GetChildren():
        walk(child, depth + 1)


for top in stage.GetPseudoRoot().GetChildren():
    walk(top)
print(stage.GetRootLayer().ExportToString().count("def "), "defs in root layer")
