# expect: accept
# what: reference a specific prim of an asset and override an attribute.
from pxr import Sdf

looks = stage.DefinePrim("/World/MetalLook")
looks.GetReferences().AddReference("/tmp/kitgate-benign-assets/materials.usda", Sdf.Path("/Looks/Metal"))
surface = stage.GetPrimAtPath("/World/MetalLook/Surface")
surface.GetAttribute("inputs:roughness").Set(0.05)
print(surface.GetAttribute("inputs:roughness").Get())
