# expect: accept
# what: reference the chair, then override a child attribute locally and compare with the asset's value.
from pxr import Gf, Sdf, UsdGeom

chair = stage.DefinePrim("/World/Chair")
chair.GetReferences().AddReference("/tmp/kitgate-benign-assets/chair.usda")
seat = UsdGeom.Cube(stage.GetPrimAtPath("/World/Chair/Seat"))
before = seat.GetPrim().GetAttribute("xformOp:scale").Get()

seat.GetPrim().GetAttribute("xformOp:scale").Set(Gf.Vec3f(0.6, 0.08, 0.6))
seat.CreateDisplayColorAttr([Gf.Vec3f(0.4, 0.2, 0.1)])

spec = stage.GetRootLayer().GetPrimAtPath("/World/Chair/Seat")
print("asset scale:", before)
print("override scale:", seat.GetPrim().GetAttribute("xformOp:scale").Get())
print("local spec specifier:", spec.specifier == Sdf.SpecifierOver)
print("local properties:", sorted(spec.properties.keys()))
stack = seat.GetPrim().GetAttribute("xformOp:scale").GetPropertyStack()
print("opinions:", len(stack))
