# expect: accept
# what: keyframes held in dataclasses, eased with a smoothstep and baked per frame onto a translate op.
from dataclasses import dataclass
from typing import List

from pxr import Gf, UsdGeom


@dataclass
class Key:
    frame: int
    value: tuple


def smoothstep(t: float) -> float:
    return t * t * (3 - 2 * t)


def bake(keys: List[Key], frame: int) -> Gf.Vec3d:
    if frame <= keys[0].frame:
        return Gf.Vec3d(*keys[0].value)
    for a, b in zip(keys, keys[1:]):
        if a.frame <= frame <= b.frame:
            t = smoothstep((frame - a.frame) / (b.frame - a.frame))
            return Gf.Vec3d(*[va + (vb - va) * t for va, vb in zip(a.value, b.value)])
    return Gf.Vec3d(*keys[-1].value)


keys = [Key(1, (0, 0, 0)), Key(24, (4, 2, 0)), Key(48, (8, 0, 0))]
drone = UsdGeom.Xform.Define(stage, "/World/Drone")
op = drone.AddTranslateOp()
for frame in range(1, 49):
    op.Set(bake(keys, frame), frame)
stage.SetStartTimeCode(1)
stage.SetEndTimeCode(48)

print("samples:", len(op.GetAttr().GetTimeSamples()))
for f in (1, 12, 24, 36, 48):
    v = op.Get(f)
    print(f"frame {f:2d}: ({v[0]:.3f}, {v[1]:.3f}, {v[2]:.3f})")
