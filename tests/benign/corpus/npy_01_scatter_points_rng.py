# expect: accept
# what: an agent scatters rocks on a ground plane with a seeded numpy Generator and writes a PointInstancer.
import numpy as np
from pxr import Gf, Sdf, UsdGeom, Vt

SEED = 2024
COUNT = 64
EXTENT = 8.0

rng = np.random.default_rng(SEED)
positions = np.zeros((COUNT, 3), dtype=np.float32)
positions[:, 0] = rng.uniform(-EXTENT, EXTENT, size=COUNT)
positions[:, 2] = rng.uniform(-EXTENT, EXTENT, size=COUNT)
scales = rng.normal(1.0, 0.15, size=(COUNT, 1)).clip(0.5, 1.5) * np.ones((1, 3))

world = UsdGeom.Xform.Define(stage, "/World")
proto = UsdGeom.Sphere.Define(stage, "/World/Rocks/Prototypes/Rock")
proto.CreateRadiusAttr(0.25)
inst = UsdGeom.PointInstancer.Define(stage, "/World/Rocks")
inst.CreatePrototypesRel().SetTargets([Sdf.Path("/World/Rocks/Prototypes/Rock")])
inst.CreatePositionsAttr(Vt.Vec3fArray.FromNumpy(positions))
inst.CreateScalesAttr(Vt.Vec3fArray.FromNumpy(scales.astype(np.float32)))
inst.CreateProtoIndicesAttr(Vt.IntArray.FromNumpy(np.zeros(COUNT, dtype=np.int32)))

center = positions.mean(axis=0)
spread = np.linalg.norm(positions - center, axis=1)
print(f"placed {COUNT} rocks, centre ({center[0]:.3f}, {center[2]:.3f}), max spread {spread.max():.3f}")
print("scale range", round(float(scales.min()), 4), round(float(scales.max()), 4))
