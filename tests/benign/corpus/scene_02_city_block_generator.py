# expect: accept
# what: a procedural city block: buildings on a grid with seeded heights, streets between them, metadata per building.
import random
from typing import Dict, List, Tuple

from pxr import Gf, Sdf, UsdGeom

rng = random.Random(1234)
BLOCKS_X, BLOCKS_Z, LOT, STREET = 4, 3, 10.0, 4.0


def lot_origin(ix: int, iz: int) -> Tuple[float, float]:
    return ix * (LOT + STREET), iz * (LOT + STREET)


def make_building(path: str, origin: Tuple[float, float], floors: int) -> UsdGeom.Cube:
    cube = UsdGeom.Cube.Define(stage, path)
    cube.CreateSizeAttr(1.0)
    height = floors * 3.2
    cube.AddTranslateOp().Set(Gf.Vec3d(origin[0] + LOT / 2, height / 2, origin[1] + LOT / 2))
    cube.AddScaleOp().Set(Gf.Vec3f(LOT * 0.8, height, LOT * 0.8))
    attr = cube.GetPrim().CreateAttribute("city:floors", Sdf.ValueTypeNames.Int)
    attr.Set(floors)
    return cube


heights: Dict[str, int] = {}
for ix in range(BLOCKS_X):
    for iz in range(BLOCKS_Z):
        floors = rng.randint(2, 30)
        name = f"Bldg_{ix}_{iz}"
        make_building(f"/World/City/{name}", lot_origin(ix, iz), floors)
        heights[name] = floors

streets: List[str] = []
for ix in range(BLOCKS_X - 1):
    street = UsdGeom.Cube.Define(stage, f"/World/City/Streets/Avenue{ix}")
    x = lot_origin(ix, 0)[0] + LOT + STREET / 2
    street.AddTranslateOp().Set(Gf.Vec3d(x, 0.01, BLOCKS_Z * (LOT + STREET) / 2))
    street.AddScaleOp().Set(Gf.Vec3f(STREET, 0.02, BLOCKS_Z * (LOT + STREET)))
    streets.append(street.GetPath().name)

tallest = max(heights, key=heights.get)
print(f"{len(heights)} buildings, {len(streets)} avenues")
print(f"tallest: {tallest} ({heights[tallest]} floors)")
print("skyline:", " ".join(str(heights[f"Bldg_{ix}_0"]) for ix in range(BLOCKS_X)))
