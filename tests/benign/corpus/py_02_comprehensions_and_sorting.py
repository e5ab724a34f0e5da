# expect: accept
# what: comprehensions, sorted with key, zip/enumerate over scene data.
from pxr import UsdGeom

heights = {"Short": 0.5, "Mid": 1.5, "Tall": 3.0}
for name, h in heights.items():
    UsdGeom.Cylinder.Define(stage, f"/World/Columns/{name}").CreateHeightAttr(h)
cols = [UsdGeom.Cylinder(p) for p in stage.GetPrimAtPath("/World/Columns").GetChildren()]
by_height = sorted(cols, key=lambda c: c.GetHeightAttr().Get(), reverse=True)
summary = {c.GetPrim().GetName(): c.GetHeightAttr().Get() for c in by_height}
for rank, (name, h) in enumerate(summary.items(), start=1):
    print(f"{rank}. {name:<6} {h:5.2f}")
tallest = max(summary, key=summary.get)
print("tallest:", tallest, "total:", sum(summary.values()))
