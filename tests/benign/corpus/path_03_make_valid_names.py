# expect: accept
# what: sanitise names into valid identifiers with string methods.
from pxr import Sdf, UsdGeom

raw = ["Chair (1)", "table-top", "3d lamp", "ok_name"]


def to_identifier(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)
    return cleaned if not cleaned[0].isdigit() else "n" + cleaned


for r in raw:
    ident = to_identifier(r)
    assert Sdf.Path.IsValidIdentifier(ident), ident
    UsdGeom.Xform.Define(stage, Sdf.Path("/World/Imported").AppendChild(ident))
print(sorted(c.GetName() for c in stage.GetPrimAtPath("/World/Imported").GetChildren()))
