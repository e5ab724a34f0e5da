# expect: accept
# what: mesh statistics (edge lengths, face areas, valence) with statistics and collections.Counter.
import math
import statistics
from collections import Counter

from pxr import Gf, UsdGeom

# an icosahedron-ish cap: a fan of triangles around a centre vertex
center = Gf.Vec3f(0, 1, 0)
ring = [Gf.Vec3f(math.cos(a), 0.2 * math.sin(3 * a), math.sin(a)) for a in (i * 2 * math.pi / 7 for i in range(7))]
points = [center] + ring
counts, indices = [], []
for i in range(7):
    counts.append(3)
    indices += [0, 1 + i, 1 + (i + 1) % 7]
mesh = UsdGeom.Mesh.Define(stage, "/World/Cap")
mesh.CreatePointsAttr(points)
mesh.CreateFaceVertexCountsAttr(counts)
mesh.CreateFaceVertexIndicesAttr(indices)

pts = mesh.GetPointsAttr().Get()
fvi = list(mesh.GetFaceVertexIndicesAttr().Get())
faces = [fvi[i:i + 3] for i in range(0, len(fvi), 3)]
edges = {tuple(sorted((f[i], f[(i + 1) % 3]))) for f in faces for i in range(3)}
lengths = [(pts[a] - pts[b]).GetLength() for a, b in sorted(edges)]
areas = [0.5 * Gf.Cross(pts[b] - pts[a], pts[c] - pts[a]).GetLength() for a, b, c in faces]
valence = Counter(i for e in edges for i in e)

print(f"faces={len(faces)} edges={len(edges)} verts={len(pts)}")
print(f"edge length mean={statistics.mean(lengths):.4f} stdev={statistics.pstdev(lengths):.4f}")
print(f"area total={math.fsum(areas):.4f} median={statistics.median(areas):.4f}")
print("valence histogram:", sorted(Counter(valence.values()).items()))
