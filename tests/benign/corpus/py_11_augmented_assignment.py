# expect: accept
# what: augmented assignment on dict items and object attributes (`counts[k] += 1`, `self.total += n`).
from pxr import UsdGeom


class Tally:
    def __init__(self):
        self.total = 0

    def add(self, n: int) -> None:
        self.total += n


for i in range(4):
    UsdGeom.Cube.Define(stage, f"/World/Tally/Cube{i}")
    UsdGeom.Sphere.Define(stage, f"/World/Tally/Ball{i}")
counts = {}
tally = Tally()
for prim in stage.Traverse():
    name = str(prim.GetTypeName())
    counts.setdefault(name, 0)
    counts[name] += 1
    tally.add(1)
sizes = [1, 2, 3]
sizes[0] += 10
print(sorted(counts.items()), tally.total, sizes)
