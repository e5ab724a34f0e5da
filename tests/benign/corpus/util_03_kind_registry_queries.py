# expect: accept
# what: read-only Kind registry queries to validate a model hierarchy (component under group under assembly).
from pxr import Kind, Usd, UsdGeom

layout = {
    "/World/Set": Kind.Tokens.assembly,
    "/World/Set/Furniture": Kind.Tokens.group,
    "/World/Set/Furniture/Chair": Kind.Tokens.component,
    "/World/Set/Furniture/Chair/Cushion": Kind.Tokens.subcomponent,
    "/World/Set/Stray": Kind.Tokens.component,
}
for path, kind in layout.items():
    Usd.ModelAPI(UsdGeom.Xform.Define(stage, path).GetPrim()).SetKind(kind)

print("all kinds:", sorted(Kind.Registry.GetAllKinds()))
for path in layout:
    prim = stage.GetPrimAtPath(path)
    kind = Usd.ModelAPI(prim).GetKind()
    print(f"{path:35s} {kind:13s} model={prim.IsModel()} group={prim.IsGroup()} "
          f"is-a-model-kind={Kind.Registry.IsA(kind, Kind.Tokens.model)}")
print("component base kind:", Kind.Registry.GetBaseKind(Kind.Tokens.component))
