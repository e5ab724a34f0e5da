# expect: accept
# what: closures with nonlocal counters used as visitors during a recursive walk.
from pxr import UsdGeom


def make_counter():
    count = 0
    names = []

    def visit(prim):
        nonlocal count
        count += 1
        names.append(prim.GetName())

    def total():
        return count, names

    return visit, total


def walk(prim, visitor, depth=0, max_depth=10):
    visitor(prim)
    if depth < max_depth:
        for child in prim.GetChildren():
            walk(child, visitor, depth + 1, max_depth)


for i in range(3):
    for j in range(2):
        UsdGeom.Cube.Define(stage, f"/World/Grid/Row{i}/Cell{j}")

visit, total = make_counter()
walk(stage.GetPrimAtPath("/World/Grid"), visit)
count, names = total()
print("visited", count, "prims")
print("names:", names)
