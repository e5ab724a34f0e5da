# expect: accept
# what: deep-copy a nested template dict and modify per variant before authoring (no shared-state bugs).
import copy

from pxr import Gf, UsdGeom

TEMPLATE = {
    "parts": [
        {"name": "Body", "type": "Cube", "scale": [1.0, 0.5, 2.0]},
        {"name": "Cabin", "type": "Cube", "scale": [0.8, 0.4, 0.9], "offset": [0, 0.45, -0.2]},
    ],
    "tags": ["vehicle"],
}

variants = {}
for label, stretch in (("Sedan", 1.0), ("Limo", 1.8), ("Compact", 0.75)):
    spec = copy.deepcopy(TEMPLATE)
    spec["parts"][0]["scale"][2] *= stretch
    spec["tags"].append(label.lower())
    variants[label] = spec

for label, spec in variants.items():
    for part in spec["parts"]:
        prim = stage.DefinePrim(f"/World/Cars/{label}/{part['name']}", part["type"])
        xf = UsdGeom.Xformable(prim)
        if "offset" in part:
            xf.AddTranslateOp().Set(Gf.Vec3d(*part["offset"]))
        xf.AddScaleOp().Set(Gf.Vec3f(*part["scale"]))
    print(label, spec["parts"][0]["scale"], spec["tags"])
print("template untouched:", TEMPLATE["parts"][0]["scale"], TEMPLATE["tags"])
shallow = copy.copy(TEMPLATE)
print("shallow shares parts:", shallow["parts"] is TEMPLATE["parts"])
