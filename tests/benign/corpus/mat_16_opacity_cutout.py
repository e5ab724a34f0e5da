# expect: accept
# what: a foliage cutout material: opacity texture + opacityThreshold, applied to a card mesh with uvs.
from pxr import Sdf, UsdGeom, UsdShade, Vt

card = UsdGeom.Mesh.Define(stage, "/World/Foliage/LeafCard")
card.CreatePointsAttr([(-0.5, 0, 0), (0.5, 0, 0), (0.5, 1, 0), (-0.5, 1, 0)])
card.CreateFaceVertexCountsAttr([4])
card.CreateFaceVertexIndicesAttr([0, 1, 2, 3])
card.CreateDoubleSidedAttr(True)
st = UsdGeom.PrimvarsAPI(card).CreatePrimvar("st", Sdf.ValueTypeNames.TexCoord2fArray, UsdGeom.Tokens.vertex)
st.Set(Vt.Vec2fArray([(0, 0), (1, 0), (1, 1), (0, 1)]))

mat = UsdShade.Material.Define(stage, "/World/Looks/Leaf")
surf = UsdShade.Shader.Define(stage, "/World/Looks/Leaf/Surface")
surf.CreateIdAttr("UsdPreviewSurface")
surf.CreateInput("opacityThreshold", Sdf.ValueTypeNames.Float).Set(0.5)
reader = UsdShade.Shader.Define(stage, "/World/Looks/Leaf/UV")
reader.CreateIdAttr("UsdPrimvarReader_float2")
reader.CreateInput("varname", Sdf.ValueTypeNames.Token).Set("st")
mask = UsdShade.Shader.Define(stage, "/World/Looks/Leaf/Mask")
mask.CreateIdAttr("UsdUVTexture")
mask.CreateInput("file", Sdf.ValueTypeNames.Asset).Set("textures/leaf_mask.png")
mask.CreateInput("st", Sdf.ValueTypeNames.Float2).ConnectToSource(reader.ConnectableAPI(), "result")
surf.CreateInput("opacity", Sdf.ValueTypeNames.Float).ConnectToSource(mask.ConnectableAPI(), "a")
mat.CreateSurfaceOutput().ConnectToSource(surf.ConnectableAPI(), "surface")
UsdShade.MaterialBindingAPI.Apply(card.GetPrim()).Bind(mat)

print("threshold", surf.GetInput("opacityThreshold").Get())
print("uv interpolation", st.GetInterpolation(), "count", len(st.Get()))
print("file", mask.GetInput("file").Get())
