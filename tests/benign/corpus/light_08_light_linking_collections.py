# expect: accept
# what: light linking and shadow linking through the lights' collections (UsdLux.LightAPI collections).
from pxr import UsdGeom, UsdLux

for name in ("Hero", "Crowd1", "Crowd2", "Set"):
    UsdGeom.Sphere.Define(stage, f"/World/Geo/{name}")

key = UsdLux.SphereLight.Define(stage, "/World/Lights/HeroKey")
key.CreateIntensityAttr(2500)
key_api = key.LightAPI() if hasattr(key, "LightAPI") else UsdLux.LightAPI(key.GetPrim())
light_link = key_api.GetLightLinkCollectionAPI()
light_link.CreateIncludeRootAttr(False)
light_link.GetIncludesRel().AddTarget("/World/Geo/Hero")

shadow_link = key_api.GetShadowLinkCollectionAPI()
shadow_link.GetExcludesRel().AddTarget("/World/Geo/Set")

query = light_link.ComputeMembershipQuery()
for prim in stage.GetPrimAtPath("/World/Geo").GetChildren():
    print(prim.GetName(), "lit by key:", query.IsPathIncluded(prim.GetPath()))
print("shadow excludes:", [str(t) for t in shadow_link.GetExcludesRel().GetTargets()])
