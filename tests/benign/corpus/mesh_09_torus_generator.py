# expect: accept
# what: a parametric torus mesh generator with normals and st primvars, as a typed function.
import math
from typing import List, Tuple

from pxr import Gf, Sdf, UsdGeom, Vt


def torus(major: float, minor: float, u_seg: int, v_seg: int) -> Tuple[List[Gf.Vec3f], List[Gf.Vec3f], List[int], List[int]]:
    points, normals = [], []
    for i in range(u_seg):
        u = 2 * math.pi * i / u_seg
        for j in range(v_seg):
            v = 2 * math.pi * j / v_seg
            cx, cz = major * math.cos(u), major * math.sin(u)
            n = Gf.Vec3f(math.cos(u) * math.cos(v), math.sin(v), math.sin(u) * math.cos(v))
            points.append(Gf.Vec3f(cx, 0, cz) + n * minor)
            normals.append(n)
    counts, indices = [], []
    for i in range(u_seg):
        for j in range(v_seg):
            a = i * v_seg + j
            b = ((i + 1) % u_seg) * v_seg + j
            c = ((i + 1) % u_seg) * v_seg + (j + 1) % v_seg
            d = i * v_seg + (j + 1) % v_seg
            counts.append(4)
            indices += [a, d, c, b]
    return points, normals, counts, indices


pts, nrm, counts, idx = torus(2.0, 0.5, 32, 12)
mesh = UsdGeom.Mesh.Define(stage, "/World/Donut")
mesh.CreatePointsAttr(Vt.Vec3fArray(pts))
mesh.CreateNormalsAttr(Vt.Vec3fArray(nrm))
mesh.SetNormalsInterpolation(UsdGeom.Tokens.vertex)
mesh.CreateFaceVertexCountsAttr(counts)
mesh.CreateFaceVertexIndicesAttr(idx)
st = UsdGeom.PrimvarsAPI(mesh).CreatePrimvar("st", Sdf.ValueTypeNames.TexCoord2fArray, UsdGeom.Tokens.vertex)
st.Set(Vt.Vec2fArray([Gf.Vec2f(i / 32, j / 12) for i in range(32) for j in range(12)]))
mesh.CreateExtentAttr(UsdGeom.PointBased.ComputeExtent(mesh.GetPointsAttr().Get()))

print("points:", len(pts), "faces:", len(counts))
print("extent:", mesh.GetExtentAttr().Get())
