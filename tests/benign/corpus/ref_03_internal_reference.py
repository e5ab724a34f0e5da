# expect: accept
# what: an internal reference (prototype prim reused).
from pxr import UsdGeom, Gf

proto = UsdGeom.Xform.Define(stage, "/World/Prototypes/Post")
UsdGeom.Cylinder.Define(stage, "/World/Prototypes/Post/Geo").CreateHeightAttr(3)
for i in range(3):
    post = stage.DefinePrim(f"/World/Fence/Post{i}", "Xform")
    post.GetReferences().AddInternalReference("/World/Prototypes/Post")
    UsdGeom.Xformable(post).AddTranslateOp().Set(Gf.Vec3d(i * 2, 0, 0))
print(len(list(stage.GetPrimAtPath("/World/Fence").GetChildren())))
