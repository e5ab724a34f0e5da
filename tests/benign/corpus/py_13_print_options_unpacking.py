# expect: accept
# what: print with sep/end, star-unpacking, slicing, del, dict(**kwargs) and *args helpers.
from pxr import UsdGeom, Gf


def place(path: str, *offset, **attrs) -> UsdGeom.Sphere:
    s = UsdGeom.Sphere.Define(stage, path)
    s.AddTranslateOp().Set(Gf.Vec3d(*offset))
    for name, value in attrs.items():
        s.GetPrim().SetCustomDataByKey(name, value)
    return s


names = ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"]
first, *middle, last = names
del middle[0]
for i, name in enumerate([first] + middle + [last]):
    place(f"/World/Marbles/{name}", i * 0.5, 0.0, 0.0, **dict(index=i, label=name.lower()))
print("placed", first, middle, last, sep=" | ", end="\n")
print(*names[::2], sep=", ")
points = list(range(10))
print(points[-3:], points[1:4])
