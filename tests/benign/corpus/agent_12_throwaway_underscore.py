# expect: accept
# what: everyday underscore idioms: `_` as a throwaway, tuple unpacking with `_`, and _private helpers.
from pxr import Gf, UsdGeom

_GRID = 4


def _cell_path(i: int, j: int) -> str:
    return f"/World/Tiles/T_{i}_{j}"


def _make_tile(i: int, j: int) -> UsdGeom.Cube:
    tile = UsdGeom.Cube.Define(stage, _cell_path(i, j))
    tile.AddTranslateOp().Set(Gf.Vec3d(i * 1.05, 0, j * 1.05))
    tile.AddScaleOp().Set(Gf.Vec3f(0.5, 0.05, 0.5))
    return tile


tiles = [_make_tile(i, j) for i in range(_GRID) for j in range(_GRID)]
for _ in range(2):
    tiles.pop()
first, *_, last = tiles
_, y, _ = first.GetOrderedXformOps()[0].Get()
print("tiles:", len(tiles), "first:", first.GetPath().name, "last:", last.GetPath().name, "y:", y)
print("removed:", [_cell_path(_GRID - 1, j) for j in range(_GRID - 2, _GRID)])
