# expect: accept
# what: ShapingAPI cone and light linking collection.
from pxr import UsdLux, UsdGeom, Usd

spot = UsdLux.SphereLight.Define(stage, "/World/Spot")
shaping = UsdLux.ShapingAPI.Apply(spot.GetPrim())
shaping.CreateShapingConeAngleAttr(30)
shaping.CreateShapingConeSoftnessAttr(0.2)
UsdGeom.Cube.Define(stage, "/World/Lit")
light_api = UsdLux.LightAPI(spot)
links = light_api.GetLightLinkCollectionAPI()
links.CreateIncludeRootAttr(False)
links.IncludePath("/World/Lit")
print(spot.GetPrim().GetAppliedSchemas())
