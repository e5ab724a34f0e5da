# expect: accept
# what: scatter rocks with a PointInstancer: seeded positions on a disc, random yaw orientations and scales.
import math
import random

from pxr import Gf, UsdGeom, Vt

rng = random.Random(7)
COUNT, RADIUS = 200, 9.0

instancer = UsdGeom.PointInstancer.Define(stage, "/World/RockScatter")
protos_root = UsdGeom.Scope.Define(stage, "/World/RockScatter/Prototypes")
proto_paths = []
for i, radius in enumerate((0.2, 0.35, 0.5)):
    s = UsdGeom.Sphere.Define(stage, f"{protos_root.GetPath()}/Rock{i}")
    s.CreateRadiusAttr(radius)
    proto_paths.append(s.GetPath())
instancer.CreatePrototypesRel().SetTargets(proto_paths)

positions, orients, scales, indices = [], [], [], []
for _ in range(COUNT):
    r = RADIUS * math.sqrt(rng.random())
    theta = rng.uniform(0, 2 * math.pi)
    positions.append(Gf.Vec3f(r * math.cos(theta), 0, r * math.sin(theta)))
    yaw = rng.uniform(0, 360)
    q = Gf.Rotation(Gf.Vec3d(0, 1, 0), yaw).GetQuat()
    orients.append(Gf.Quath(q.GetReal(), *q.GetImaginary()))
    s = rng.uniform(0.6, 1.4)
    scales.append(Gf.Vec3f(s, s * rng.uniform(0.7, 1.0), s))
    indices.append(rng.randrange(len(proto_paths)))

instancer.CreatePositionsAttr(Vt.Vec3fArray(positions))
instancer.CreateOrientationsAttr(Vt.QuathArray(orients))
instancer.CreateScalesAttr(Vt.Vec3fArray(scales))
instancer.CreateProtoIndicesAttr(Vt.IntArray(indices))

counts = [indices.count(i) for i in range(len(proto_paths))]
print("instances:", len(instancer.GetPositionsAttr().Get()), "per prototype:", counts)
xforms = instancer.ComputeInstanceTransformsAtTime(0, 0)
print("transforms computed:", len(xforms))
