# expect: accept
# what: a lazy generator pipeline (filter -> map -> batch) over prims, with itertools.islice and chain.
from itertools import chain, islice

from pxr import UsdGeom

for i in range(25):
    schema = (UsdGeom.Cube, UsdGeom.Sphere, UsdGeom.Cone)[i % 3]
    schema.Define(stage, f"/World/Mix/Shape{i:02d}")


def gprims(stage):
    return (p for p in stage.Traverse() if p.IsA(UsdGeom.Gprim))


def names(prims):
    for p in prims:
        yield p.GetName()


def batched(iterable, n):
    it = iter(iterable)
    while batch := list(islice(it, n)):
        yield batch


spheres = (p for p in gprims(stage) if p.GetTypeName() == "Sphere")
for i, batch in enumerate(batched(names(spheres), 3)):
    print(f"batch {i}: {batch}")
combined = list(chain(["first"], islice(names(gprims(stage)), 2, 5), ["last"]))
print(combined)
