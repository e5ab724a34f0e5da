# expect: accept
# what: a blinking warning light: visibility keyed from a pattern string, intensity pulsing with math.sin.
import math

from pxr import UsdGeom, UsdLux

PATTERN = "XX..XX..X.X.X..."
beacon = UsdLux.SphereLight.Define(stage, "/World/Tower/Beacon")
geo = UsdGeom.Sphere.Define(stage, "/World/Tower/BeaconGeo")
vis = geo.CreateVisibilityAttr()
intensity = beacon.CreateIntensityAttr()

for frame, ch in enumerate(PATTERN * 2, start=1):
    on = ch == "X"
    vis.Set(UsdGeom.Tokens.inherited if on else UsdGeom.Tokens.invisible, frame)
    intensity.Set(1000.0 * (0.75 + 0.25 * math.sin(frame)) if on else 0.0, frame)

on_frames = [t for t in vis.GetTimeSamples() if vis.Get(t) == UsdGeom.Tokens.inherited]
print("frames:", len(vis.GetTimeSamples()), "on:", len(on_frames))
print("first on frames:", [int(f) for f in on_frames[:6]])
print("intensity at 5: %.2f" % intensity.Get(5))
