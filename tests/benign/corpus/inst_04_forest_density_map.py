# expect: accept
# what: forest generation driven by a tiny ASCII density map; species chosen by a weighted random choice.
import random

from pxr import Gf, UsdGeom, Vt

DENSITY_MAP = """
..2233..
.234432.
2345543.
.233321.
..1111..
""".strip().splitlines()
SPECIES = {"Pine": 0.5, "Birch": 0.3, "Oak": 0.2}
CELL = 2.0

rng = random.Random(42)
forest = UsdGeom.PointInstancer.Define(stage, "/World/Forest")
names = list(SPECIES)
for name in names:
    cone = UsdGeom.Cone.Define(stage, f"/World/Forest/Prototypes/{name}")
    cone.CreateHeightAttr({"Pine": 4.0, "Birch": 3.0, "Oak": 2.5}[name])
forest.CreatePrototypesRel().SetTargets([f"/World/Forest/Prototypes/{n}" for n in names])

positions, indices = [], []
for row, line in enumerate(DENSITY_MAP):
    for col, ch in enumerate(line):
        count = int(ch) if ch.isdigit() else 0
        for _ in range(count):
            x = (col + rng.random()) * CELL
            z = (row + rng.random()) * CELL
            positions.append(Gf.Vec3f(x, 0, z))
            indices.append(names.index(rng.choices(names, weights=list(SPECIES.values()))[0]))

forest.CreatePositionsAttr(Vt.Vec3fArray(positions))
forest.CreateProtoIndicesAttr(Vt.IntArray(indices))
print("trees:", len(positions))
for i, name in enumerate(names):
    print(f"  {name}: {indices.count(i)}")
