# expect: accept
# what: create a camera from a horizontal field of view and a sensor preset, the way a layout agent does.
import math

from pxr import Gf, UsdGeom

SENSORS = {"full_frame": (36.0, 24.0), "super35": (24.89, 18.66), "aps_c": (23.6, 15.6)}


def create_camera(stage, path: str, hfov_deg: float, sensor: str = "full_frame", near=0.1, far=10000.0):
    width_mm, height_mm = SENSORS[sensor]
    focal = (width_mm / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)
    cam = UsdGeom.Camera.Define(stage, path)
    cam.CreateHorizontalApertureAttr(width_mm)
    cam.CreateVerticalApertureAttr(height_mm)
    cam.CreateFocalLengthAttr(round(focal, 3))
    cam.CreateClippingRangeAttr(Gf.Vec2f(near, far))
    return cam


for name, fov, sensor in [("Wide", 90, "full_frame"), ("Normal", 47, "super35"), ("Tele", 12, "aps_c")]:
    cam = create_camera(stage, f"/World/Cameras/{name}", fov, sensor)
    gf_cam = cam.GetCamera(0)
    print(f"{name:6s} focal={cam.GetFocalLengthAttr().Get():7.3f}mm "
          f"hfov={gf_cam.GetFieldOfView(gf_cam.FOVHorizontal):6.2f} aspect={gf_cam.aspectRatio:.3f}")
