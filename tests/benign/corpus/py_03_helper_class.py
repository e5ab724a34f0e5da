# expect: accept
# what: a small helper class (dataclass-like) that builds props.
from pxr import UsdGeom, Gf


class PropBuilder:
    def __init__(self, root: str):
        self.root = root
        self.made = []

    def box(self, name: str, size: float, pos: tuple) -> UsdGeom.Cube:
        cube = UsdGeom.Cube.Define(stage, f"{self.root}/{name}")
        cube.CreateSizeAttr(size)
        cube.AddTranslateOp().Set(Gf.Vec3d(*pos))
        self.made.append(name)
        return cube


builder = PropBuilder("/World/Props2")
builder.box("Crate", 1.0, (0, 0.5, 0))
builder.box("SmallCrate", 0.5, (1.2, 0.25, 0))
print("made", builder.made)
