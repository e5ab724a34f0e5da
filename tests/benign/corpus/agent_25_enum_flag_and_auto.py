# expect: accept
# what: enum.auto and enum.Flag to describe prim capabilities, computed from applied schemas.
from enum import Enum, Flag, auto

from pxr import UsdGeom, UsdPhysics


class Capability(Flag):
    NONE = 0
    RIGID = auto()
    COLLIDES = auto()
    HAS_MASS = auto()


class Shape(Enum):
    CUBE = auto()
    SPHERE = auto()


def capabilities(prim) -> Capability:
    caps = Capability.NONE
    if prim.HasAPI(UsdPhysics.RigidBodyAPI):
        caps |= Capability.RIGID
    if prim.HasAPI(UsdPhysics.CollisionAPI):
        caps |= Capability.COLLIDES
    if prim.HasAPI(UsdPhysics.MassAPI):
        caps |= Capability.HAS_MASS
    return caps


setup = {"Static": (Shape.CUBE, False, True, False), "Dynamic": (Shape.SPHERE, True, True, True),
         "Ghost": (Shape.SPHERE, True, False, False)}
for name, (shape, rigid, collides, mass) in setup.items():
    schema = UsdGeom.Cube if shape is Shape.CUBE else UsdGeom.Sphere
    prim = schema.Define(stage, f"/World/Bodies/{name}").GetPrim()
    if rigid:
        UsdPhysics.RigidBodyAPI.Apply(prim)
    if collides:
        UsdPhysics.CollisionAPI.Apply(prim)
    if mass:
        UsdPhysics.MassAPI.Apply(prim)

for prim in stage.GetPrimAtPath("/World/Bodies").GetChildren():
    caps = capabilities(prim)
    flags = [c.name for c in (Capability.RIGID, Capability.COLLIDES, Capability.HAS_MASS) if c in caps]
    print(f"{prim.GetName():8s} {prim.GetTypeName():6s} {flags}")
