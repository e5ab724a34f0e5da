# expect: accept
# what: spot light via ShapingAPI (cone angle/softness) and ShadowAPI (color, distance), read back as a dict.
from pxr import Gf, UsdGeom, UsdLux

spot = UsdLux.DiskLight.Define(stage, "/World/Lights/StageSpot")
spot.CreateRadiusAttr(0.25)
spot.CreateIntensityAttr(5000)
UsdGeom.Xformable(spot).AddTranslateOp().Set(Gf.Vec3d(0, 6, 0))
UsdGeom.Xformable(spot).AddRotateXOp().Set(-90)

shaping = UsdLux.ShapingAPI.Apply(spot.GetPrim())
shaping.CreateShapingConeAngleAttr(25.0)
shaping.CreateShapingConeSoftnessAttr(0.2)
shaping.CreateShapingFocusAttr(1.5)

shadow = UsdLux.ShadowAPI.Apply(spot.GetPrim())
shadow.CreateShadowEnableAttr(True)
shadow.CreateShadowColorAttr(Gf.Vec3f(0.05, 0.05, 0.1))
shadow.CreateShadowDistanceAttr(20.0)
shadow.CreateShadowFalloffAttr(5.0)

settings = {
    attr.GetName(): attr.Get()
    for attr in spot.GetPrim().GetAttributes()
    if attr.GetName().startswith(("inputs:shaping", "inputs:shadow"))
}
for key in sorted(settings):
    print(f"{key} = {settings[key]}")
print("schemas:", list(spot.GetPrim().GetAppliedSchemas()))
