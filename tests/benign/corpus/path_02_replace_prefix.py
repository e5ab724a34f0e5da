# expect: accept
# what: move prims with Sdf.CopySpec and path prefix replacement.
from pxr import Sdf, UsdGeom

UsdGeom.Xform.Define(stage, "/World/Old/Thing")
UsdGeom.Cube.Define(stage, "/World/Old/Thing/Geo")
layer = stage.GetRootLayer()
src = Sdf.Path("/World/Old")
dst = src.ReplacePrefix(Sdf.Path("/World/Old"), Sdf.Path("/World/New"))
Sdf.CopySpec(layer, src, layer, dst)
stage.RemovePrim(src)
print([str(p.GetPath()) for p in stage.Traverse() if p.GetPath().HasPrefix(dst)])
