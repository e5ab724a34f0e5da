# expect: accept
# what: traverse instance proxies of instanceable references (Usd.TraverseInstanceProxies).
from pxr import Usd, UsdGeom

proto = UsdGeom.Xform.Define(stage, "/World/Proto/Bolt")
UsdGeom.Cylinder.Define(stage, "/World/Proto/Bolt/Shaft")
for i in range(3):
    b = stage.DefinePrim(f"/World/Bolts/Bolt{i}", "Xform")
    b.GetReferences().AddInternalReference("/World/Proto/Bolt")
    b.SetInstanceable(True)
plain = [p.GetName() for p in stage.Traverse()]
proxies = [str(p.GetPath()) for p in stage.Traverse(Usd.TraverseInstanceProxies()) if p.IsInstanceProxy()]
print(len(plain), "prims without proxies;", len(proxies), "instance proxies")
print(sorted(proxies)[:3])
