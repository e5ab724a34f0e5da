# expect: accept
# what: build a little scene and print the exported root layer text (what people paste into chats).
from pxr import UsdGeom

UsdGeom.Xform.Define(stage, "/World/Note")
UsdGeom.Sphere.Define(stage, "/World/Note/Dot").CreateRadiusAttr(0.1)
text = stage.GetRootLayer().ExportToString()
lines = text.splitlines()
print(len(lines), "lines")
print("\n".join(line for line in lines if "Dot" in line or "radius" in line))
