# expect: accept
# what: a naming-convention linter (regex per prim type), the kind of pipeline check TDs run before publish.
import re

from pxr import UsdGeom, UsdLux

RULES = {
    "Mesh": re.compile(r"^[A-Z][A-Za-z0-9]*_(GEO|PLY)$"),
    "Xform": re.compile(r"^[A-Z][A-Za-z0-9]*(_GRP)?$"),
    "SphereLight": re.compile(r"^[a-z]+Light\d*$"),
}

UsdGeom.Xform.Define(stage, "/World/Props_GRP")
for name in ("Table_GEO", "chair_GEO", "Lamp_PLY", "vase01_GEO", "Shelf_geo"):
    UsdGeom.Mesh.Define(stage, f"/World/Props_GRP/{name}")
for name in ("keyLight", "Fill_Light", "rimLight2"):
    UsdLux.SphereLight.Define(stage, f"/World/{name}")

problems = []
for prim in stage.Traverse():
    rule = RULES.get(prim.GetTypeName())
    if rule and not rule.match(prim.GetName()):
        suggestion = re.sub(r"[^A-Za-z0-9]", "", prim.GetName().split("_")[0]).capitalize()
        problems.append((str(prim.GetPath()), prim.GetTypeName(), suggestion))

print(f"{len(problems)} naming problems")
for path, type_name, suggestion in problems:
    print(f"  {type_name:<12}{path}  (try {suggestion}_GEO)" if type_name == "Mesh" else f"  {type_name:<12}{path}")
