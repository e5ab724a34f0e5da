# expect: accept
# what: proxy/render purpose pairs for heavy props, with the proxyPrim relationship and a purpose census.
from collections import Counter

from pxr import Usd, UsdGeom

for name in ("Statue", "Fountain", "Tree"):
    root = UsdGeom.Xform.Define(stage, f"/World/Park/{name}")
    render = UsdGeom.Mesh.Define(stage, root.GetPath().AppendChild("Render"))
    render.CreatePurposeAttr(UsdGeom.Tokens.render)
    proxy = UsdGeom.Cube.Define(stage, root.GetPath().AppendChild("Proxy"))
    proxy.CreatePurposeAttr(UsdGeom.Tokens.proxy)
    render.CreateProxyPrimRel().SetTargets([proxy.GetPath()])

census = Counter(UsdGeom.Imageable(p).ComputePurpose() for p in Usd.PrimRange(stage.GetPrimAtPath("/World/Park")))
print("purposes:", sorted(census.items()))
statue = UsdGeom.Imageable(stage.GetPrimAtPath("/World/Park/Statue/Render"))
print("statue proxy:", statue.ComputeProxyPrim()[0].GetPath() if statue.ComputeProxyPrim() else None)
cache = UsdGeom.BBoxCache(Usd.TimeCode.Default(), [UsdGeom.Tokens.proxy])
print("proxy-only bound:", cache.ComputeWorldBound(stage.GetPrimAtPath("/World/Park")).ComputeAlignedRange().GetSize())
