# expect: accept
# what: a collection of prims with includes and excludes.
from pxr import Usd, UsdGeom

for n in ("A", "B", "C"):
    UsdGeom.Cube.Define(stage, f"/World/Set/{n}")
holder = stage.DefinePrim("/World/Selections")
coll = Usd.CollectionAPI.Apply(holder, "favorites")
coll.IncludePath("/World/Set")
coll.ExcludePath("/World/Set/B")
query = coll.ComputeMembershipQuery()
print(sorted(str(p) for p in Usd.CollectionAPI.ComputeIncludedPaths(query, stage)))
