# expect: accept
# what: traverse the stage and count prims by type with a dict.
from pxr import UsdGeom

for i in range(3):
    UsdGeom.Sphere.Define(stage, f"/World/S{i}")
counts: dict = {}
for prim in stage.Traverse():
    key = str(prim.GetTypeName()) or "untyped"
    counts[key] = counts.get(key, 0) + 1
for name in sorted(counts):
    print(f"{name:>10}: {counts[name]}")
