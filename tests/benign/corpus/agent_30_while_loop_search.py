# expect: accept
# what: find a free prim name with a while loop, plus a for/else search for the first empty slot.
from pxr import Sdf, UsdGeom

for i in (1, 2, 4):
    UsdGeom.Cube.Define(stage, f"/World/Shelf/Slot{i}")


def unique_path(stage, base: str) -> Sdf.Path:
    candidate, n = Sdf.Path(base), 1
    while stage.GetPrimAtPath(candidate):
        n += 1
        candidate = Sdf.Path(f"{base}_{n}")
    return candidate


for slot in range(1, 6):
    if not stage.GetPrimAtPath(f"/World/Shelf/Slot{slot}"):
        print("first empty slot:", slot)
        break
else:
    print("shelf full")

paths = []
for _ in range(3):
    p = unique_path(stage, "/World/Shelf/Slot1")
    UsdGeom.Sphere.Define(stage, p)
    paths.append(str(p))
print("new prims:", paths)
