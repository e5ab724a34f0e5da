# expect: accept
# what: stage statistics for a sanity report: depth histogram, widest prim, property counts (via dict/max/sorted).
from pxr import Sdf, Usd, UsdGeom

for a in range(3):
    for b in range(a + 2):
        cube = UsdGeom.Cube.Define(stage, f"/World/Lvl1_{a}/Lvl2_{b}")
        cube.GetPrim().CreateAttribute("user:index", Sdf.ValueTypeNames.Int).Set(a * 10 + b)
        for c in range(b):
            UsdGeom.Sphere.Define(stage, f"/World/Lvl1_{a}/Lvl2_{b}/Leaf{c}")

depths = {}
widest = (None, -1)
props = 0
for prim in Usd.PrimRange(stage.GetPseudoRoot()):
    d = prim.GetPath().pathElementCount
    depths[d] = depths.get(d, 0) + 1
    n = len(prim.GetChildren())
    if n > widest[1]:
        widest = (str(prim.GetPath()), n)
    props += len(prim.GetAuthoredProperties())

print("depth histogram:", dict(sorted(depths.items())))
print("widest:", widest)
print("authored properties:", props)
