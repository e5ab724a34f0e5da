# expect: accept
# what: warehouse racking: aisles of shelves with pallets, using small helper functions and a counter.
from collections import Counter

from pxr import Gf, UsdGeom

AISLES, BAYS, LEVELS = 3, 5, 4
BAY_W, LEVEL_H, AISLE_GAP = 2.7, 1.5, 3.5
counts = Counter()


def _box(path, center, size):
    cube = UsdGeom.Cube.Define(stage, path)
    cube.CreateSizeAttr(1.0)
    cube.AddTranslateOp().Set(Gf.Vec3d(*center))
    cube.AddScaleOp().Set(Gf.Vec3f(*size))
    counts[path.rsplit("/", 1)[-1].rstrip("0123456789_")] += 1
    return cube


for a in range(AISLES):
    z = a * AISLE_GAP
    for b in range(BAYS):
        x = b * BAY_W
        for lvl in range(LEVELS):
            y = lvl * LEVEL_H
            base = f"/World/Warehouse/Aisle{a}/Bay{b}/Level{lvl}"
            _box(f"{base}/Beam", (x, y, z), (BAY_W, 0.08, 1.1))
            if (a + b + lvl) % 3:
                _box(f"{base}/Pallet", (x, y + 0.6, z), (1.2, 1.0, 1.0))

print("parts:", dict(sorted(counts.items())))
print("occupancy: %.0f%%" % (100 * counts["Pallet"] / (AISLES * BAYS * LEVELS)))
