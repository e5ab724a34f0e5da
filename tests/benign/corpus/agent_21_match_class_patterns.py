# expect: accept
# what: match with class patterns on the script's own dataclasses (shape requests parsed from an LLM plan).
from dataclasses import dataclass

from pxr import Gf, UsdGeom


@dataclass
class Box:
    name: str
    size: float


@dataclass
class Ball:
    name: str
    radius: float


@dataclass
class Move:
    name: str
    offset: tuple


plan = [Box("Crate", 1.5), Ball("Marble", 0.1), Box("Tiny", 0.0), Move("Crate", (2, 0, 0)), Ball("Moon", 1.7)]
log = []
for step in plan:
    match step:
        case Box(name=name, size=0.0):
            log.append(f"skip empty box {name}")
        case Box(name=name, size=size):
            UsdGeom.Cube.Define(stage, f"/World/Plan/{name}").CreateSizeAttr(size)
            log.append(f"box {name} {size}")
        case Ball(name=name, radius=r) if r < 1.0:
            UsdGeom.Sphere.Define(stage, f"/World/Plan/{name}").CreateRadiusAttr(r)
            log.append(f"small ball {name}")
        case Ball(name=name, radius=r):
            UsdGeom.Sphere.Define(stage, f"/World/Plan/{name}").CreateRadiusAttr(r)
            log.append(f"big ball {name}")
        case Move(name=name, offset=(x, y, z)):
            UsdGeom.Xformable(stage.GetPrimAtPath(f"/World/Plan/{name}")).AddTranslateOp().Set(Gf.Vec3d(x, y, z))
            log.append(f"moved {name}")

print("\n".join(log))
