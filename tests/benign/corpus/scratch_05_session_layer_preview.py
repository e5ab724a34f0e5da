# expect: accept
# what: author a temporary preview tweak in the session layer, compare, then move the approved value to the root layer.
from pxr import Usd, UsdGeom

lamp_shade = UsdGeom.Cone.Define(stage, "/World/LampShade")
lamp_shade.CreateHeightAttr(0.4)

with Usd.EditContext(stage, stage.GetSessionLayer()):
    lamp_shade.GetHeightAttr().Set(0.6)
    lamp_shade.CreateDisplayColorAttr([(1.0, 0.0, 0.0)])
print("composed height (with session):", lamp_shade.GetHeightAttr().Get())
print("root layer height:", stage.GetRootLayer().GetAttributeAtPath("/World/LampShade.height").default)

approved = lamp_shade.GetHeightAttr().Get()
stage.GetSessionLayer().Clear()
lamp_shade.GetHeightAttr().Set(approved)
print("after approval:", lamp_shade.GetHeightAttr().Get(), "display color:", lamp_shade.GetDisplayColorAttr().Get())
print("session empty:", stage.GetSessionLayer().empty)
