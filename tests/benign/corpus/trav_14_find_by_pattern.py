# expect: accept
# what: fnmatch-style prim search implemented with re (glob -> regex), used to select and tag prims.
import re

from pxr import UsdGeom

for side in ("L", "R"):
    for part in ("Arm", "Leg", "Hand"):
        UsdGeom.Capsule.Define(stage, f"/World/Rig/{part}_{side}")
UsdGeom.Sphere.Define(stage, "/World/Rig/Head")


def glob_to_regex(pattern: str) -> re.Pattern:
    out = []
    for ch in pattern:
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(ch))
    return re.compile("^" + "".join(out) + "$")


def find(stage, pattern: str):
    rx = glob_to_regex(pattern)
    return [p for p in stage.Traverse() if rx.match(str(p.GetPath()))]


for pattern in ("/World/Rig/*_L", "/World/Rig/Hand_?", "/World/Rig/H*", "/World/*/Leg*"):
    hits = find(stage, pattern)
    print(f"{pattern:20s} -> {[p.GetName() for p in hits]}")

for prim in find(stage, "/World/Rig/*_L"):
    prim.SetCustomDataByKey("rig:side", "left")
print("tagged:", sum(1 for p in stage.Traverse() if p.GetCustomDataByKey("rig:side") == "left"))
