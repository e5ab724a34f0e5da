# expect: accept
# what: value objects with __eq__/__hash__ used to deduplicate repeated geometry before instancing.
from pxr import Gf, UsdGeom


class ShapeKey:
    def __init__(self, type_name: str, size: float):
        self.type_name = type_name
        self.size = round(size, 3)

    def __eq__(self, other):
        if not isinstance(other, ShapeKey):
            return NotImplemented
        return (self.type_name, self.size) == (other.type_name, other.size)

    def __hash__(self):
        return hash((self.type_name, self.size))

    def __repr__(self):
        return f"ShapeKey({self.type_name}, {self.size})"


requests = [("Cube", 1.0), ("Cube", 1.0004), ("Sphere", 0.5), ("Cube", 2.0), ("Sphere", 0.5), ("Cube", 1.0)]
unique = {}
for i, (type_name, size) in enumerate(requests):
    key = ShapeKey(type_name, size)
    if key not in unique:
        proto = stage.DefinePrim(f"/World/Protos/{type_name}{len(unique)}", type_name)
        attr = "size" if type_name == "Cube" else "radius"
        proto.GetAttribute(attr).Set(size)
        unique[key] = proto.GetPath()
    ref = UsdGeom.Xform.Define(stage, f"/World/Placed/Item{i}")
    ref.GetPrim().GetInherits().AddInherit(unique[key])
    ref.AddTranslateOp().Set(Gf.Vec3d(i, 0, 0))

print("requests:", len(requests), "unique prototypes:", len(unique))
for key, path in unique.items():
    print(" ", key, "->", path)
