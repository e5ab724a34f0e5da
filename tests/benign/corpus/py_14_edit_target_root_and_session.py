# expect: accept
# what: set the edit target to the root layer explicitly (a common LLM idiom) and use Usd.EditContext.
from pxr import Usd, UsdGeom

stage.SetEditTarget(stage.GetRootLayer())
UsdGeom.Xform.Define(stage, "/World/Targeted")
with Usd.EditContext(stage, stage.GetRootLayer()):
    UsdGeom.Cube.Define(stage, "/World/Targeted/InContext")
print(stage.GetEditTarget().GetLayer() == stage.GetRootLayer())
print([c.GetName() for c in stage.GetPrimAtPath("/World/Targeted").GetChildren()])
