# expect: accept
# what: turn user-supplied labels into valid prim names with Tf.MakeValidIdentifier, de-duplicating collisions.
from pxr import Tf, UsdGeom

labels = ["Front Door", "front-door", "3D Logo", "Window (left)", "Window (right)", "Ünïcode name", "Front Door"]
used = set()
mapping = {}
for label in labels:
    base = Tf.MakeValidIdentifier(label)
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base}_{n}"
    used.add(name)
    mapping[label] = name
    UsdGeom.Xform.Define(stage, f"/World/Labels/{name}")

for label, name in mapping.items():
    print(f"{label!r:20} -> {name}  valid={Tf.IsValidIdentifier(name)}")
print("children:", len(stage.GetPrimAtPath("/World/Labels").GetChildren()))
