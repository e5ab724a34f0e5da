# expect: accept
# what: an agent's "turn off every light except the sun" request, with a before/after table.
from pxr import Usd, UsdLux

UsdLux.DistantLight.Define(stage, "/World/Sun").CreateIntensityAttr(3.0)
for i in range(3):
    UsdLux.SphereLight.Define(stage, f"/World/Interior/Lamp{i}").CreateIntensityAttr(200.0)
UsdLux.RectLight.Define(stage, "/World/Interior/Softbox").CreateIntensityAttr(900.0)


def iter_lights(stage):
    for prim in stage.Traverse():
        if prim.HasAPI(UsdLux.LightAPI):
            yield prim


keep = {"/World/Sun"}
changed = []
for prim in iter_lights(stage):
    path = str(prim.GetPath())
    if path in keep:
        continue
    prim.SetActive(False)
    changed.append(path)

print(f"deactivated {len(changed)} lights:")
for path in changed:
    print("  -", path)
active = [str(p.GetPath()) for p in iter_lights(stage)]
print("still active:", active)
inactive = [str(p.GetPath()) for p in Usd.PrimRange(stage.GetPseudoRoot(), Usd.PrimAllPrimsPredicate) if not p.IsActive()]
print("inactive prims:", inactive)
