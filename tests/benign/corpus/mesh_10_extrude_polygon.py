# expect: accept
# what: extrude a 2D footprint polygon into a closed prism mesh (walls + caps), checking winding with the shoelace formula.
from pxr import Gf, UsdGeom

FOOTPRINT = [(0, 0), (6, 0), (6, 4), (3, 6), (0, 4)]
HEIGHT = 3.0


def signed_area(poly):
    return 0.5 * sum(x0 * z1 - x1 * z0 for (x0, z0), (x1, z1) in zip(poly, poly[1:] + poly[:1]))


poly = FOOTPRINT if signed_area(FOOTPRINT) < 0 else list(reversed(FOOTPRINT))
n = len(poly)
points = [Gf.Vec3f(x, 0, z) for x, z in poly] + [Gf.Vec3f(x, HEIGHT, z) for x, z in poly]
counts = [n, n] + [4] * n
indices = list(range(n))[::-1] + list(range(n, 2 * n))
for i in range(n):
    j = (i + 1) % n
    indices += [i, j, n + j, n + i]

house = UsdGeom.Mesh.Define(stage, "/World/House")
house.CreatePointsAttr(points)
house.CreateFaceVertexCountsAttr(counts)
house.CreateFaceVertexIndicesAttr(indices)
house.CreateOrientationAttr(UsdGeom.Tokens.rightHanded)

print("footprint area:", abs(signed_area(FOOTPRINT)))
print("faces:", len(counts), "points:", len(points), "indices:", len(indices))
print("volume:", abs(signed_area(FOOTPRINT)) * HEIGHT)
