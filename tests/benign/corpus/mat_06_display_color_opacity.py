# expect: accept
# what: displayColor and displayOpacity primvars per gprim.
from pxr import UsdGeom, Gf

palette = {"Red": (1, 0, 0), "Green": (0, 1, 0), "Blue": (0, 0, 1)}
for i, (name, rgb) in enumerate(palette.items()):
    s = UsdGeom.Sphere.Define(stage, f"/World/Palette/{name}")
    s.AddTranslateOp().Set(Gf.Vec3d(i * 2.5, 0, 0))
    s.CreateDisplayColorAttr([Gf.Vec3f(*rgb)])
    s.CreateDisplayOpacityAttr([0.5 + 0.25 * i])
print(sorted(palette))
