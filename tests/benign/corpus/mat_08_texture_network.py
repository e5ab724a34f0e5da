# expect: accept
# what: a textured PBR network: st reader, diffuse/normal/roughness UsdUVTexture nodes, wired to a preview surface.
from pxr import Sdf, UsdShade, UsdGeom

MAT_PATH = "/World/Looks/PaintedWood"
TEXTURES = {
    "diffuseColor": ("textures/wood_albedo.png", "rgb", Sdf.ValueTypeNames.Color3f, "sRGB"),
    "normal": ("textures/wood_normal.png", "rgb", Sdf.ValueTypeNames.Normal3f, "raw"),
    "roughness": ("textures/wood_rough.png", "r", Sdf.ValueTypeNames.Float, "raw"),
}

material = UsdShade.Material.Define(stage, MAT_PATH)
surface = UsdShade.Shader.Define(stage, MAT_PATH + "/Surface")
surface.CreateIdAttr("UsdPreviewSurface")
material.CreateSurfaceOutput().ConnectToSource(surface.ConnectableAPI(), "surface")

st_name = material.CreateInput("frame:stPrimvarName", Sdf.ValueTypeNames.Token)
st_name.Set("st")
reader = UsdShade.Shader.Define(stage, MAT_PATH + "/STReader")
reader.CreateIdAttr("UsdPrimvarReader_float2")
reader.CreateInput("varname", Sdf.ValueTypeNames.Token).ConnectToSource(st_name)
reader.CreateOutput("result", Sdf.ValueTypeNames.Float2)

for input_name, (file_path, channel, value_type, color_space) in TEXTURES.items():
    tex = UsdShade.Shader.Define(stage, f"{MAT_PATH}/{input_name.capitalize()}Tex")
    tex.CreateIdAttr("UsdUVTexture")
    tex.CreateInput("file", Sdf.ValueTypeNames.Asset).Set(file_path)
    tex.CreateInput("sourceColorSpace", Sdf.ValueTypeNames.Token).Set(color_space)
    tex.CreateInput("st", Sdf.ValueTypeNames.Float2).ConnectToSource(reader.ConnectableAPI(), "result")
    out = tex.CreateOutput(channel, value_type)
    surface.CreateInput(input_name, value_type).ConnectToSource(out)

plank = UsdGeom.Mesh.Define(stage, "/World/Plank")
plank.CreatePointsAttr([(0, 0, 0), (2, 0, 0), (2, 0, 0.3), (0, 0, 0.3)])
plank.CreateFaceVertexCountsAttr([4])
plank.CreateFaceVertexIndicesAttr([0, 1, 2, 3])
UsdShade.MaterialBindingAPI.Apply(plank.GetPrim()).Bind(material)

for inp in surface.GetInputs():
    sources, _invalid = inp.GetConnectedSources()
    src = sources[0]
    print(inp.GetBaseName(), "<-", src.source.GetPath().name, src.sourceName)
