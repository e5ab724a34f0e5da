# expect: accept
# what: generator functions and a while loop with break.
from pxr import UsdGeom, Gf


def fibonacci(limit: int):
    a, b = 0, 1
    while a < limit:
        yield a
        a, b = b, a + b


heights = list(fibonacci(30))
i = 0
while True:
    if i >= len(heights):
        break
    UsdGeom.Cube.Define(stage, f"/World/Fib/Bar{i}").AddScaleOp().Set(Gf.Vec3f(0.5, max(heights[i], 1), 0.5))
    i += 1
print(heights)
