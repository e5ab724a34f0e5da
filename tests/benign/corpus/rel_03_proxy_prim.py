# expect: accept
# what: renderProxy relationship via UsdGeom.Imageable purpose.
from pxr import UsdGeom

full = UsdGeom.Mesh.Define(stage, "/World/Statue/Render")
proxy = UsdGeom.Cube.Define(stage, "/World/Statue/Proxy")
UsdGeom.Imageable(proxy).CreatePurposeAttr(UsdGeom.Tokens.proxy)
UsdGeom.Imageable(full).CreatePurposeAttr(UsdGeom.Tokens.render)
UsdGeom.Imageable(full).SetProxyPrim(proxy)
print(UsdGeom.Imageable(full).ComputeProxyPrim())
