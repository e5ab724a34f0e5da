# expect: accept
# what: fast batch authoring at the Sdf layer level (prim specs + attribute specs in a ChangeBlock) for 500 prims.
from pxr import Gf, Sdf, UsdGeom

layer = stage.GetRootLayer()
N = 500
with Sdf.ChangeBlock():
    parent = Sdf.CreatePrimInLayer(layer, "/World/Points")
    parent.specifier = Sdf.SpecifierDef
    parent.typeName = "Xform"
    for i in range(N):
        spec = Sdf.PrimSpec(parent, f"P{i:03d}", Sdf.SpecifierDef, "Sphere")
        radius = Sdf.AttributeSpec(spec, "radius", Sdf.ValueTypeNames.Double)
        radius.default = 0.05 + (i % 10) * 0.01
        tr = Sdf.AttributeSpec(spec, "xformOp:translate", Sdf.ValueTypeNames.Double3)
        tr.default = Gf.Vec3d(i % 25, 0, i // 25)
        order = Sdf.AttributeSpec(spec, "xformOpOrder", Sdf.ValueTypeNames.TokenArray, Sdf.VariabilityUniform)
        order.default = ["xformOp:translate"]

spheres = [UsdGeom.Sphere(p) for p in stage.GetPrimAtPath("/World/Points").GetChildren()]
print("spheres:", len(spheres))
print("last:", spheres[-1].GetPath(), spheres[-1].GetRadiusAttr().Get(),
      spheres[-1].GetLocalTransformation().ExtractTranslation())
