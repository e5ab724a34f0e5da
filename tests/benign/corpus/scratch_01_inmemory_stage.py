# expect: accept
# what: build a scratch in-memory stage, export it to a string, copy a prim into the job stage.
from pxr import Usd, UsdGeom, Sdf

scratch = Usd.Stage.CreateInMemory()
UsdGeom.Sphere.Define(scratch, "/Temp/Ball").CreateRadiusAttr(3)
text = scratch.GetRootLayer().ExportToString()
stage.DefinePrim("/World", "Xform")
print(len(text) > 0, "#usda" in text)
Sdf.CopySpec(scratch.GetRootLayer(), "/Temp", stage.GetRootLayer(), "/World/FromScratch")
print(stage.GetPrimAtPath("/World/FromScratch/Ball").GetAttribute("radius").Get())
