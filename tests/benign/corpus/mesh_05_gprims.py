# expect: accept
# what: built-in gprims: sphere, cone, cylinder, capsule with sizes.
from pxr import UsdGeom

sphere = UsdGeom.Sphere.Define(stage, "/World/Shapes/Ball")
sphere.CreateRadiusAttr(0.75)
cone = UsdGeom.Cone.Define(stage, "/World/Shapes/Cone")
cone.CreateHeightAttr(2.0)
cone.CreateRadiusAttr(0.5)
cyl = UsdGeom.Cylinder.Define(stage, "/World/Shapes/Can")
cyl.CreateAxisAttr(UsdGeom.Tokens.y)
cap = UsdGeom.Capsule.Define(stage, "/World/Shapes/Pill")
cap.CreateHeightAttr(1.0)
for shape in (sphere, cone, cyl, cap):
    print(shape.GetPrim().GetTypeName(), shape.GetPath())
