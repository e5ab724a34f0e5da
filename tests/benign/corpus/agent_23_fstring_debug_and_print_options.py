# expect: accept
# what: print-heavy diagnostics: f-string `=` specifier, sep/end, dict merge with |, zip(strict=True).
from pxr import Gf, UsdGeom

names = ["Alpha", "Beta", "Gamma"]
radii = [0.5, 0.75, 1.0]
defaults = {"segments": 16, "visible": True}
overrides = {"segments": 32}
settings = defaults | overrides

for i, (name, radius) in enumerate(zip(names, radii, strict=True), start=1):
    sphere = UsdGeom.Sphere.Define(stage, f"/World/Orbs/{name}")
    sphere.CreateRadiusAttr(radius)
    sphere.AddTranslateOp().Set(Gf.Vec3d(i * 3.0, radius, 0))
    print(f"{i=} {name=!s} {radius=:.2f}")

count = len(stage.GetPrimAtPath("/World/Orbs").GetChildren())
print("orbs", count, sep=": ", end=" | ")
print(f"{settings=}")
print(*sorted(names, key=str.lower, reverse=True), sep=", ")
