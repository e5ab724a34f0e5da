# expect: accept
# what: a living-room layout from a furniture table (name, type, position, size), with kinds and a summary.
from pxr import Gf, Kind, Usd, UsdGeom

FURNITURE = [
    ("Sofa", "Cube", (0.0, 0.4, -2.0), (2.2, 0.8, 0.9)),
    ("CoffeeTable", "Cube", (0.0, 0.25, -0.6), (1.2, 0.5, 0.6)),
    ("FloorLamp", "Cylinder", (1.6, 0.9, -2.2), (0.3, 1.8, 0.3)),
    ("Ottoman", "Cylinder", (-1.3, 0.2, -0.4), (0.6, 0.4, 0.6)),
    ("Globe", "Sphere", (0.2, 0.65, -0.6), (0.3, 0.3, 0.3)),
]

room = UsdGeom.Xform.Define(stage, "/World/LivingRoom")
Usd.ModelAPI(room.GetPrim()).SetKind(Kind.Tokens.assembly)

for name, prim_type, pos, size in FURNITURE:
    item = UsdGeom.Xform.Define(stage, room.GetPath().AppendChild(name))
    Usd.ModelAPI(item.GetPrim()).SetKind(Kind.Tokens.component)
    item.AddTranslateOp().Set(Gf.Vec3d(*pos))
    geo = stage.DefinePrim(item.GetPath().AppendChild("Geo"), prim_type)
    UsdGeom.Xformable(geo).AddScaleOp().Set(Gf.Vec3f(*[s / 2 for s in size]))

print(f"{'item':<12} {'type':<9} position")
for child in room.GetPrim().GetChildren():
    geo = child.GetChild("Geo")
    pos = UsdGeom.Xformable(child).GetLocalTransformation().ExtractTranslation()
    print(f"{child.GetName():<12} {geo.GetTypeName():<9} {tuple(round(v, 2) for v in pos)}")
print("models:", [p.GetName() for p in Usd.PrimRange(room.GetPrim()) if p.IsModel()])
