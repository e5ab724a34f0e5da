# expect: accept
# what: bind a material to a collection of prims (collection-based binding), like a look-dev TD would.
from pxr import Gf, Sdf, Usd, UsdGeom, UsdShade

root = UsdGeom.Scope.Define(stage, "/World/Props")
for i in range(6):
    kind = "Bolt" if i % 2 == 0 else "Nut"
    cyl = UsdGeom.Cylinder.Define(stage, f"/World/Props/{kind}_{i:02d}")
    cyl.CreateRadiusAttr(0.05 if kind == "Bolt" else 0.08)
    cyl.AddTranslateOp().Set(Gf.Vec3d(i * 0.3, 0, 0))

metal = UsdShade.Material.Define(stage, "/World/Looks/Galvanized")
pbr = UsdShade.Shader.Define(stage, "/World/Looks/Galvanized/PBR")
pbr.CreateIdAttr("UsdPreviewSurface")
pbr.CreateInput("metallic", Sdf.ValueTypeNames.Float).Set(1.0)
pbr.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(0.45)
metal.CreateSurfaceOutput().ConnectToSource(pbr.ConnectableAPI(), "surface")

bolts = Usd.CollectionAPI.Apply(root.GetPrim(), "bolts")
for prim in root.GetPrim().GetChildren():
    if prim.GetName().startswith("Bolt"):
        bolts.GetIncludesRel().AddTarget(prim.GetPath())

binding = UsdShade.MaterialBindingAPI.Apply(root.GetPrim())
binding.Bind(bolts, metal, "galvanizedBolts")

for prim in root.GetPrim().GetChildren():
    bound, rel = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial()
    print(f"{prim.GetName():10s} -> {bound.GetPath() if bound else '(none)'}")
