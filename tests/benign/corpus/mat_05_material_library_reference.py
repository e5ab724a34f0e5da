# expect: accept
# what: reference a material library from the asset root and bind from it.
from pxr import UsdGeom, UsdShade

looks = stage.DefinePrim("/World/Library", "Scope")
looks.GetReferences().AddReference("/tmp/kitgate-benign-assets/materials.usda")
chair_seat = UsdGeom.Cube.Define(stage, "/World/Seat")
wood = UsdShade.Material(stage.GetPrimAtPath("/World/Library/Wood"))
UsdShade.MaterialBindingAPI.Apply(chair_seat.GetPrim()).Bind(wood)
print("wood is valid:", bool(wood))
