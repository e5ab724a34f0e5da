# expect: accept
# what: return a JSON result summarising the scene (last-expression / result variable).
from pxr import UsdGeom

UsdGeom.Cube.Define(stage, "/World/ResultCube")
prims = [str(p.GetPath()) for p in stage.Traverse()]
result = {"count": len(prims), "cubes": [p for p in prims if p.endswith("Cube")], "ok": True}
print(result["count"])
