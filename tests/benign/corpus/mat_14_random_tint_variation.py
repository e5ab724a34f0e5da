# expect: accept
# what: per-instance color variation with a seeded RNG and colorsys (HSV jitter), written as displayColor primvars.
import colorsys
import random

from pxr import Gf, UsdGeom

rng = random.Random(2024)
base_hue, base_sat, base_val = 0.08, 0.65, 0.7

for row in range(3):
    for col in range(4):
        path = f"/World/Crates/Crate_{row}_{col}"
        crate = UsdGeom.Cube.Define(stage, path)
        crate.AddTranslateOp().Set(Gf.Vec3d(col * 1.2, 0.5, row * 1.2))
        h = (base_hue + rng.uniform(-0.03, 0.03)) % 1.0
        s = min(1.0, max(0.0, base_sat + rng.uniform(-0.1, 0.1)))
        v = min(1.0, max(0.0, base_val + rng.uniform(-0.2, 0.1)))
        r, g, b = colorsys.hsv_to_rgb(h, s, v)
        crate.CreateDisplayColorPrimvar(UsdGeom.Tokens.constant).Set([Gf.Vec3f(r, g, b)])

colors = [UsdGeom.Gprim(p).GetDisplayColorAttr().Get()[0] for p in stage.Traverse() if p.GetName().startswith("Crate_")]
print("crates:", len(colors))
print("mean red: %.3f" % (sum(c[0] for c in colors) / len(colors)))
