# expect: accept
# what: class-based inheritance: a _class prim carries shared opinions; instances inherit and one overrides.
from pxr import Gf, Sdf, UsdGeom

cls = stage.CreateClassPrim("/_class_StreetLight")
pole = stage.DefinePrim("/_class_StreetLight/Pole", "Cylinder")
pole.GetAttribute("height").Set(6.0)
UsdGeom.Gprim(pole).CreateDisplayColorAttr([Gf.Vec3f(0.2, 0.2, 0.2)])

for i in range(4):
    light = UsdGeom.Xform.Define(stage, f"/World/Street/Light{i}")
    light.GetPrim().GetInherits().AddInherit("/_class_StreetLight")
    light.AddTranslateOp().Set(Gf.Vec3d(i * 12.0, 0, 0))

UsdGeom.Cylinder(stage.GetPrimAtPath("/World/Street/Light2/Pole")).GetHeightAttr().Set(4.0)
pole.GetAttribute("height").Set(7.0)  # a later change to the class reaches the others

for i in range(4):
    p = UsdGeom.Cylinder(stage.GetPrimAtPath(f"/World/Street/Light{i}/Pole"))
    print(f"Light{i}: height={p.GetHeightAttr().Get()} color={p.GetDisplayColorAttr().Get()[0]}")
print("class is abstract:", cls.IsAbstract(), "specifier:", cls.GetSpecifier() == Sdf.SpecifierClass)
