# expect: reject-at-runtime
# attack: file-existence oracle outside the asset roots: hand asset values to USD as plain strings
#   through setters other than Usd.Attribute.Set (UsdShade.Input.Set, a Primvar, a schema's
#   Create*Attr default, an AssetArray) and read back the resolvedPath the resolver fills in only for
#   files that exist. A check on the delta at the end comes too late: the answers are already printed.
from pxr import UsdShade, UsdGeom, UsdLux, Sdf
probe = "/tmp/kitgate-corpus-canary/secret.txt"
sh = UsdShade.Shader.Define(stage, "/World/Tex")
inp = sh.CreateInput("file", Sdf.ValueTypeNames.Asset)
inp.Set(probe)
found = [inp.Get().resolvedPath]
pv = UsdGeom.PrimvarsAPI(UsdGeom.Mesh.Define(stage, "/World/M")).CreatePrimvar("tex", Sdf.ValueTypeNames.Asset)
pv.Set(probe)
found.append(pv.Get().resolvedPath)
dome = UsdLux.DomeLight.Define(stage, "/World/Dome")
found.append(dome.CreateTextureFileAttr(probe).Get().resolvedPath)
if any(found):
    print("KGESC" + "APE", "host file exists:", found)
