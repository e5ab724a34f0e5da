# expect: accept
# what: build a kitchen from a nested spec dict (as an LLM plans it), recursively creating xforms and gprims.
from pxr import Gf, UsdGeom

SPEC = {
    "Kitchen": {
        "children": {
            "Counter": {"type": "Cube", "translate": (0, 0.45, -1.5), "scale": (3.0, 0.9, 0.6)},
            "Island": {
                "translate": (0, 0, 0.5),
                "children": {
                    "Top": {"type": "Cube", "translate": (0, 0.9, 0), "scale": (1.8, 0.05, 0.9)},
                    "Base": {"type": "Cube", "translate": (0, 0.45, 0), "scale": (1.6, 0.85, 0.8)},
                },
            },
            "Pendant": {"type": "Sphere", "translate": (0, 2.2, 0.5), "scale": (0.2, 0.2, 0.2)},
        }
    }
}

created = []


def build(parent_path: str, name: str, node: dict) -> None:
    path = f"{parent_path}/{name}"
    prim_type = node.get("type", "Xform")
    prim = stage.DefinePrim(path, prim_type)
    xf = UsdGeom.Xformable(prim)
    if "translate" in node:
        xf.AddTranslateOp().Set(Gf.Vec3d(*node["translate"]))
    if "scale" in node:
        xf.AddScaleOp().Set(Gf.Vec3f(*[s / 2 for s in node["scale"]]))
    created.append((path, prim_type))
    for child_name, child in node.get("children", {}).items():
        build(path, child_name, child)


for top_name, top in SPEC.items():
    build("/World", top_name, top)

for path, prim_type in created:
    depth = path.count("/") - 2
    print("  " * depth + f"{path.rsplit('/', 1)[1]} ({prim_type})")
