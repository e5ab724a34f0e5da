# expect: accept
# what: a complete look-dev scene: cyclorama, asset reference, three lights, camera and render settings metadata.
from pxr import Gf, Sdf, UsdGeom, UsdLux

stage.SetStartTimeCode(1)
stage.SetEndTimeCode(100)
layer = stage.GetRootLayer()
layer.documentation = "Look-dev turntable for the chair asset"

cyc = UsdGeom.Mesh.Define(stage, "/World/Cyc")
cyc.CreatePointsAttr([(-5, 0, -5), (5, 0, -5), (5, 0, 5), (-5, 0, 5), (-5, 5, -5), (5, 5, -5)])
cyc.CreateFaceVertexCountsAttr([4, 4])
cyc.CreateFaceVertexIndicesAttr([0, 3, 2, 1, 0, 1, 5, 4])

asset = UsdGeom.Xform.Define(stage, "/World/Asset")
asset.GetPrim().GetReferences().AddReference("/tmp/kitgate-benign-assets/chair.usda")
spin = asset.AddRotateYOp()
spin.Set(0.0, 1)
spin.Set(360.0, 100)

UsdLux.DomeLight.Define(stage, "/World/Lights/Env").CreateIntensityAttr(0.3)
key = UsdLux.RectLight.Define(stage, "/World/Lights/Key")
key.CreateIntensityAttr(1500.0)
UsdGeom.Xformable(key).AddTranslateOp().Set(Gf.Vec3d(3, 3, 3))

cam = UsdGeom.Camera.Define(stage, "/World/Cam")
cam.AddTranslateOp().Set(Gf.Vec3d(0, 0.8, 4))
cam.CreateFocalLengthAttr(50)
cam.GetPrim().CreateAttribute("render:resolution", Sdf.ValueTypeNames.Int2).Set(Gf.Vec2i(1920, 1080))

print(layer.documentation)
print("asset children:", [c.GetName() for c in asset.GetPrim().GetChildren()])
print("frames:", stage.GetStartTimeCode(), "-", stage.GetEndTimeCode())
print("resolution:", cam.GetPrim().GetAttribute("render:resolution").Get())
