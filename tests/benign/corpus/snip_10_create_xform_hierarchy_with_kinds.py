# expect: accept
# what: NVIDIA-snippet style: define a model hierarchy (assembly/group/component) and list the models.
from pxr import Kind, Sdf, Usd, UsdGeom


def define_model(stage: Usd.Stage, path: str, kind: str) -> Usd.Prim:
    prim = UsdGeom.Xform.Define(stage, Sdf.Path(path)).GetPrim()
    Usd.ModelAPI(prim).SetKind(kind)
    return prim


#############
# Full Usage
#############

Usd.ModelAPI(stage.GetPrimAtPath("/World")).SetKind(Kind.Tokens.assembly)
define_model(stage, "/World/Props", Kind.Tokens.group)
for name in ("Chair", "Table"):
    define_model(stage, f"/World/Props/{name}", Kind.Tokens.component)
    UsdGeom.Cube.Define(stage, f"/World/Props/{name}/Geom")

models = [p for p in stage.Traverse() if p.IsModel()]
print([(str(p.GetPath()), Usd.ModelAPI(p).GetKind()) for p in models])
print("component count:", sum(Usd.ModelAPI(p).IsKind(Kind.Tokens.component) for p in models))
