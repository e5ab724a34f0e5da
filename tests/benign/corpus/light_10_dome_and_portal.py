# expect: accept
# what: an HDRI dome light with a texture and a portal for an interior window, plus guide radius.
from pxr import Gf, Sdf, UsdGeom, UsdLux

dome = UsdLux.DomeLight.Define(stage, "/World/Environment/Sky")
dome.CreateTextureFileAttr(Sdf.AssetPath("hdri/overcast_4k.exr"))
dome.CreateTextureFormatAttr(UsdLux.Tokens.latlong)
dome.CreateIntensityAttr(1.0)
dome.CreateGuideRadiusAttr(100000.0)
UsdGeom.Xformable(dome).AddRotateXOp().Set(-90.0)

portal = UsdLux.PortalLight.Define(stage, "/World/Environment/WindowPortal")
UsdGeom.Xformable(portal).AddTranslateOp().Set(Gf.Vec3d(0, 1.5, -4))
UsdGeom.Xformable(portal).AddScaleOp().Set(Gf.Vec3f(2.0, 1.2, 1.0))
dome.CreatePortalsRel().AddTarget(portal.GetPath())

print("dome texture:", dome.GetTextureFileAttr().Get().path)
print("format:", dome.GetTextureFormatAttr().Get())
print("portals:", dome.GetPortalsRel().GetTargets())
