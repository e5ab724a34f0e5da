# expect: accept
# what: a particle burst as an animated PointInstancer with positions and velocities per frame.
import random

from pxr import Gf, UsdGeom, Vt

rng = random.Random(99)
N, FRAMES, FPS = 50, 12, 24.0
gravity = Gf.Vec3f(0, -9.8, 0)
pos = [Gf.Vec3f(0, 1, 0) for _ in range(N)]
vel = [Gf.Vec3f(rng.uniform(-2, 2), rng.uniform(3, 6), rng.uniform(-2, 2)) for _ in range(N)]

burst = UsdGeom.PointInstancer.Define(stage, "/World/Burst")
spark = UsdGeom.Sphere.Define(stage, "/World/Burst/Prototypes/Spark")
spark.CreateRadiusAttr(0.03)
burst.CreatePrototypesRel().AddTarget(spark.GetPath())
burst.CreateProtoIndicesAttr(Vt.IntArray([0] * N))
pos_attr, vel_attr = burst.CreatePositionsAttr(), burst.CreateVelocitiesAttr()

dt = 1.0 / FPS
for frame in range(FRAMES):
    pos_attr.Set(Vt.Vec3fArray(pos), frame)
    vel_attr.Set(Vt.Vec3fArray(vel), frame)
    vel = [v + gravity * dt for v in vel]
    pos = [p + v * dt for p, v in zip(pos, vel)]

last = pos_attr.Get(FRAMES - 1)
print("frames:", len(pos_attr.GetTimeSamples()))
print("lowest y at end: %.3f" % min(p[1] for p in last))
print("highest y at end: %.3f" % max(p[1] for p in last))
