# expect: accept
# what: a stereo camera pair parented under a rig, interaxial from a constant, with stereoRole set.
from pxr import Gf, UsdGeom

INTERAXIAL_CM = 6.5

rig = UsdGeom.Xform.Define(stage, "/World/StereoRig")
rig.AddTranslateOp().Set(Gf.Vec3d(0, 1.6, 5))
cams = {}
for role, sign in (("left", -1), ("right", 1)):
    cam = UsdGeom.Camera.Define(stage, f"/World/StereoRig/{role.title()}Eye")
    cam.CreateStereoRoleAttr(role)
    cam.CreateFocalLengthAttr(35)
    cam.AddTranslateOp().Set(Gf.Vec3d(sign * INTERAXIAL_CM / 200.0, 0, 0))
    cams[role] = cam

left = cams["left"].ComputeLocalToWorldTransform(0).ExtractTranslation()
right = cams["right"].ComputeLocalToWorldTransform(0).ExtractTranslation()
print("interaxial (m):", round((right - left).GetLength(), 4))
for role, cam in cams.items():
    print(role, cam.GetStereoRoleAttr().Get(), cam.GetPath())
