# expect: accept
# what: NVIDIA-snippet style: create a perspective camera with focal length, aperture and clipping range.
from pxr import Gf, Sdf, Usd, UsdGeom


def create_perspective_35mm_camera(stage: Usd.Stage, prim_path: str = "/World/MyPerspCam") -> UsdGeom.Camera:
    camera_path = Sdf.Path(prim_path)
    usd_camera: UsdGeom.Camera = UsdGeom.Camera.Define(stage, camera_path)
    usd_camera.CreateProjectionAttr().Set(UsdGeom.Tokens.perspective)
    usd_camera.CreateFocalLengthAttr().Set(35)
    # Set a few other common attributes too.
    usd_camera.CreateHorizontalApertureAttr().Set(20.955)
    usd_camera.CreateVerticalApertureAttr().Set(15.29)
    usd_camera.CreateClippingRangeAttr().Set((0.1, 100000))
    return usd_camera


#############
# Full Usage
#############

camera = create_perspective_35mm_camera(stage, "/World/MyPerspCam")
UsdGeom.XformCommonAPI(camera).SetTranslate(Gf.Vec3d(0, 2, 15))
print(camera.GetFocalLengthAttr().Get(), camera.GetProjectionAttr().Get())
print(camera.GetClippingRangeAttr().Get())
assert camera.GetPrim().IsA(UsdGeom.Camera)
