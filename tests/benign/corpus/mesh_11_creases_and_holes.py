# expect: accept
# what: subdivision mesh with crease edges, corner sharpness and a hole, as a modeling TD would author it.
from pxr import UsdGeom

mesh = UsdGeom.Mesh.Define(stage, "/World/SubdivPanel")
pts = [(x, 0, z) for z in range(4) for x in range(4)]
counts, idx = [], []
for z in range(3):
    for x in range(3):
        a = z * 4 + x
        counts.append(4)
        idx += [a, a + 1, a + 5, a + 4]
mesh.CreatePointsAttr(pts)
mesh.CreateFaceVertexCountsAttr(counts)
mesh.CreateFaceVertexIndicesAttr(idx)
mesh.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.catmullClark)
mesh.CreateCreaseIndicesAttr([0, 1, 2, 3, 12, 13, 14, 15])
mesh.CreateCreaseLengthsAttr([4, 4])
mesh.CreateCreaseSharpnessesAttr([10.0, 2.5])
mesh.CreateCornerIndicesAttr([0, 3, 12, 15])
mesh.CreateCornerSharpnessesAttr([5.0] * 4)
mesh.CreateHoleIndicesAttr([4])
mesh.CreateInterpolateBoundaryAttr(UsdGeom.Tokens.edgeAndCorner)

lengths = mesh.GetCreaseLengthsAttr().Get()
print("creases:", len(lengths), "edge verts per crease:", list(lengths))
print("corners:", list(mesh.GetCornerIndicesAttr().Get()))
print("holes:", list(mesh.GetHoleIndicesAttr().Get()))
print("valid topology:", UsdGeom.Mesh.ValidateTopology(mesh.GetFaceVertexIndicesAttr().Get(),
                                                     mesh.GetFaceVertexCountsAttr().Get(), len(pts))[0])
