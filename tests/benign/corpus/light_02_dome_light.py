# expect: accept
# what: a dome light with a texture path and exposure.
from pxr import UsdLux

dome = UsdLux.DomeLight.Define(stage, "/World/Sky")
dome.CreateIntensityAttr(1.0)
dome.CreateExposureAttr(0.5)
dome.CreateTextureFileAttr("textures/studio_small.hdr")
dome.CreateTextureFormatAttr(UsdLux.Tokens.latlong)
print(dome.GetTextureFileAttr().Get())
