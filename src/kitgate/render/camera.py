"""Where the picture is taken from: a named UsdGeom.Camera, or a framing of the scene's world bounds.

Why its own module: the camera is the one input besides the stage that an agent chooses, so it is where a
path to a non-camera, a camera with NaN in its transform, or a window of zero size must become BadCamera
rather than a black picture. Matrices use USD's row-vector convention (p' = p * M), as Gf returns them.
"""

from __future__ import annotations

import math

import numpy as np
from pxr import Gf, Usd, UsdGeom

from kitgate.render.errors import RenderError
from kitgate.render.types import RenderRequest

FOV_DEG = 35.0  # the automatic framing's narrower field of view
VIEW_DIR_Y_UP = (0.45, 0.55, 1.0)  # from the front (+Z), a little right and above
VIEW_DIR_Z_UP = (0.45, -1.0, 0.55)  # the same for a Z-up stage (front is -Y)


def _np(m: Gf.Matrix4d) -> np.ndarray:
    return np.array(m, dtype=np.float64).reshape(4, 4)


def resolve_camera(stage: Usd.Stage, request: RenderRequest) -> UsdGeom.Camera | None:
    """The requested camera schema, or None for automatic framing; BadCamera if the path is not one."""
    if request.camera is None:
        return None
    prim = stage.GetPrimAtPath(request.camera)
    if not prim or not prim.IsValid():
        raise RenderError("BadCamera", f"there is no prim at {request.camera}",
                          "name an existing UsdGeom.Camera prim, or leave camera out for an automatic framing")
    if not prim.IsA(UsdGeom.Camera):
        raise RenderError("BadCamera", f"{request.camera} is a {prim.GetTypeName() or 'typeless prim'}, not a Camera",
                          "name a UsdGeom.Camera prim, or leave camera out for an automatic framing")
    return UsdGeom.Camera(prim)


def camera_matrices(camera: UsdGeom.Camera, aspect: float) -> tuple[np.ndarray, np.ndarray]:
    """(view, projection) of a USD camera, its window widened to the picture's aspect (nothing cropped)."""
    path = camera.GetPath()
    gf_cam = camera.GetCamera(Usd.TimeCode.Default())
    frustum = gf_cam.frustum
    lo, hi = frustum.window.GetMin(), frustum.window.GetMax()
    near, far = frustum.nearFar.min, frustum.nearFar.max
    nums = [lo[0], lo[1], hi[0], hi[1], near, far]
    if not all(math.isfinite(v) for v in nums) or hi[0] <= lo[0] or hi[1] <= lo[1]:
        raise RenderError("BadCamera", f"{path} has a non-finite or empty aperture/window",
                          "author positive, finite focalLength and horizontal/verticalAperture")
    if not 0 < near < far:
        raise RenderError("BadCamera", f"{path} has clippingRange ({near}, {far}); it needs 0 < near < far",
                          "author e.g. clippingRange = (0.1, 10000)")
    cx, cy = (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2
    hw, hh = (hi[0] - lo[0]) / 2, (hi[1] - lo[1]) / 2
    if hw / hh < aspect:
        hw = hh * aspect
    else:
        hh = hw / aspect
    frustum.window = Gf.Range2d(Gf.Vec2d(cx - hw, cy - hh), Gf.Vec2d(cx + hw, cy + hh))
    view, proj = _np(frustum.ComputeViewMatrix()), _np(frustum.ComputeProjectionMatrix())
    if not (np.isfinite(view).all() and np.isfinite(proj).all()):
        raise RenderError("BadCamera", f"{path} has a NaN or infinite transform or projection",
                          "give the camera a finite transform")
    return view, proj


def auto_matrices(stage: Usd.Stage, lo: np.ndarray, hi: np.ndarray, aspect: float) -> tuple[np.ndarray, np.ndarray]:
    """(view, projection) looking at the box lo..hi from the front, a little right and above, as close as
    keeps all eight corners of the box in the picture."""
    centre = (lo + hi) / 2
    z_up = UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.z
    toward = np.array(VIEW_DIR_Z_UP if z_up else VIEW_DIR_Y_UP)
    toward /= np.linalg.norm(toward)  # from the centre toward the eye
    up = np.array([0.0, 0.0, 1.0]) if z_up else np.array([0.0, 1.0, 0.0])
    right = np.cross(-toward, up)
    right /= np.linalg.norm(right)
    cam_up = np.cross(right, -toward)
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]) - centre
    x, y, z = corners @ right, corners @ cam_up, corners @ toward
    tan_y = math.tan(math.radians(FOV_DEG) / 2)
    tan_x = tan_y * aspect
    extent = float(np.abs(corners).max())
    dist = max(float((z + np.abs(x) / tan_x).max()), float((z + np.abs(y) / tan_y).max()), extent * 1e-3, 1e-9) * 1.05
    near = max((dist - float(z.max())) * 0.9, dist * 1e-4)
    far = (dist - float(z.min())) * 1.1 + near
    eye = centre + toward * dist
    view = _np(Gf.Matrix4d().SetLookAt(Gf.Vec3d(*eye), Gf.Vec3d(*centre), Gf.Vec3d(*up)))
    frustum = Gf.Frustum()
    frustum.SetPerspective(FOV_DEG, aspect, near, far)
    return view, _np(frustum.ComputeProjectionMatrix())
