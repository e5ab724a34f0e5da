# expect: accept
# what: model hierarchy with Kind.Tokens (assembly/group/component) and Usd.ModelAPI queries.
from pxr import Kind, Usd, UsdGeom

world = stage.DefinePrim("/World", "Xform")
Usd.ModelAPI(world).SetKind(Kind.Tokens.assembly)
room = UsdGeom.Xform.Define(stage, "/World/Room")
Usd.ModelAPI(room).SetKind(Kind.Tokens.group)
for name in ("Desk", "Lamp", "Bin"):
    item = UsdGeom.Xform.Define(stage, f"/World/Room/{name}")
    Usd.ModelAPI(item).SetKind(Kind.Tokens.component)
models = [p.GetName() for p in stage.Traverse() if p.IsModel()]
components = [p.GetName() for p in stage.Traverse() if p.IsComponent()]
print("models:", models)
print("components:", components)
