# expect: accept
# what: compute approximate masses from bbox volume and density, author MassAPI, and print a sorted table.
from pxr import Gf, Usd, UsdGeom, UsdPhysics

parts = {"Engine": ((1.2, 0.8, 0.9), 2700.0), "Seat": ((0.5, 0.6, 0.5), 300.0), "Wheel": ((0.6, 0.6, 0.25), 1200.0)}
for name, (scale, density) in parts.items():
    cube = UsdGeom.Cube.Define(stage, f"/World/Kart/{name}")
    cube.CreateSizeAttr(1.0)
    cube.AddScaleOp().Set(Gf.Vec3f(*scale))
    UsdPhysics.MassAPI.Apply(cube.GetPrim()).CreateDensityAttr(density)

cache = UsdGeom.BBoxCache(Usd.TimeCode.Default(), [UsdGeom.Tokens.default_])
rows = []
for prim in stage.GetPrimAtPath("/World/Kart").GetChildren():
    size = cache.ComputeWorldBound(prim).ComputeAlignedRange().GetSize()
    volume = size[0] * size[1] * size[2]
    mass_api = UsdPhysics.MassAPI(prim)
    mass = volume * mass_api.GetDensityAttr().Get()
    mass_api.CreateMassAttr(round(mass, 2))
    mass_api.CreateCenterOfMassAttr(Gf.Vec3f(0, 0, 0))
    rows.append((prim.GetName(), volume, mass))

rows.sort(key=lambda r: r[2], reverse=True)
print(f"{'part':<8}{'volume':>10}{'mass':>10}")
for name, volume, mass in rows:
    print(f"{name:<8}{volume:>10.3f}{mass:>10.1f}")
print(f"total mass: {sum(r[2] for r in rows):.1f} kg")
