# expect: accept
# what: a small class hierarchy for props (base class + subclasses using super().__init__ and overrides).
from pxr import Gf, UsdGeom


class Prop:
    schema = UsdGeom.Xform

    def __init__(self, stage, path: str, position=(0.0, 0.0, 0.0)):
        self.stage = stage
        self.path = path
        self.position = position
        self.prim = None

    def build(self):
        self.prim = self.schema.Define(self.stage, self.path)
        self.prim.AddTranslateOp().Set(Gf.Vec3d(*self.position))
        self.decorate()
        return self

    def decorate(self):
        pass

    def describe(self) -> str:
        return f"{type(self).__name__} at {self.position}"


class Barrel(Prop):
    schema = UsdGeom.Cylinder

    def __init__(self, stage, path, position=(0.0, 0.0, 0.0), height=1.2):
        super().__init__(stage, path, position)
        self.height = height

    def decorate(self):
        self.prim.CreateHeightAttr(self.height)
        self.prim.CreateRadiusAttr(0.4)

    def describe(self) -> str:
        return super().describe() + f", height {self.height}"


class Crate(Prop):
    schema = UsdGeom.Cube

    def decorate(self):
        self.prim.CreateSizeAttr(0.8)


props = [Barrel(stage, "/World/Dock/Barrel1", (0, 0.6, 0)), Barrel(stage, "/World/Dock/Barrel2", (1, 0.6, 0), 0.9),
         Crate(stage, "/World/Dock/Crate1", (2, 0.4, 0))]
for prop in props:
    prop.build()
    print(prop.describe(), "->", prop.prim.GetPrim().GetTypeName())
print("barrels:", sum(isinstance(p, Barrel) for p in props))
