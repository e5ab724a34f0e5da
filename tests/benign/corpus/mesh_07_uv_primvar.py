# expect: accept
# what: a quad with st texture coordinates as a faceVarying primvar.
from pxr import UsdGeom, Sdf, Vt, Gf

mesh = UsdGeom.Mesh.Define(stage, "/World/Card")
mesh.CreatePointsAttr([(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0)])
mesh.CreateFaceVertexCountsAttr([4])
mesh.CreateFaceVertexIndicesAttr([0, 1, 2, 3])
pv_api = UsdGeom.PrimvarsAPI(mesh)
st = pv_api.CreatePrimvar("st", Sdf.ValueTypeNames.TexCoord2fArray, UsdGeom.Tokens.faceVarying)
st.Set(Vt.Vec2fArray([Gf.Vec2f(0, 0), Gf.Vec2f(1, 0), Gf.Vec2f(1, 1), Gf.Vec2f(0, 1)]))
print(st.GetInterpolation(), st.Get())
