# expect: accept
# what: generic schema handling via getattr: look up a schema class by type name and read its size-like attribute.
from pxr import UsdGeom

for name, type_name in (("A", "Cube"), ("B", "Sphere"), ("C", "Cylinder"), ("D", "Cone"), ("E", "Capsule")):
    stage.DefinePrim(f"/World/Shapes/{name}", type_name)

SIZE_GETTERS = ("GetSizeAttr", "GetRadiusAttr", "GetHeightAttr")

for prim in stage.GetPrimAtPath("/World/Shapes").GetChildren():
    schema_cls = getattr(UsdGeom, prim.GetTypeName(), None)
    if schema_cls is None:
        print(prim.GetName(), "no schema")
        continue
    schema = schema_cls(prim)
    measures = {}
    for getter in SIZE_GETTERS:
        if hasattr(schema, getter):
            attr = getattr(schema, getter)()
            measures[attr.GetName()] = attr.Get()
    print(f"{prim.GetName()} {type(schema).__name__:<9} {measures}")
