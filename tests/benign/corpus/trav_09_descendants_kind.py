# expect: accept
# what: set model kinds and find components via Usd.ModelAPI.
from pxr import Usd

asm = stage.DefinePrim("/World/Set", "Xform")
Usd.ModelAPI(asm).SetKind("assembly")
for i in range(3):
    p = stage.DefinePrim(f"/World/Set/Prop{i}", "Xform")
    Usd.ModelAPI(p).SetKind("component")
comps = [p.GetName() for p in stage.Traverse() if Usd.ModelAPI(p).GetKind() == "component"]
print(comps)
