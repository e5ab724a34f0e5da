# expect: accept
# what: NVIDIA-snippet style: compute a prim's world transform and decompose it into translate/rotate/scale.
import typing

from pxr import Gf, Usd, UsdGeom


def get_world_transform_xform(prim: Usd.Prim) -> typing.Tuple[Gf.Vec3d, Gf.Rotation, Gf.Vec3d]:
    """Get the local transformation of a prim using Xformable.

    See https://openusd.org/release/api/class_usd_geom_xformable.html
    """
    xform = UsdGeom.Xformable(prim)
    time = Usd.TimeCode.Default()
    world_transform: Gf.Matrix4d = xform.ComputeLocalToWorldTransform(time)
    translation: Gf.Vec3d = world_transform.ExtractTranslation()
    rotation: Gf.Rotation = world_transform.ExtractRotation()
    scale: Gf.Vec3d = Gf.Vec3d(*(v.GetLength() for v in world_transform.ExtractRotationMatrix()))
    return translation, rotation, scale


#############
# Full Usage
#############

parent = UsdGeom.Xform.Define(stage, "/World/Parent")
parent.AddTranslateOp().Set(Gf.Vec3d(10.0, 0.0, 0.0))
parent.AddRotateYOp().Set(90.0)
cube = UsdGeom.Cube.Define(stage, "/World/Parent/Cube")
cube.AddTranslateOp().Set(Gf.Vec3d(4.0, 5.0, 6.0))
cube.AddScaleOp().Set(Gf.Vec3f(3.0, 3.0, 3.0))

translation, rotation, scale = get_world_transform_xform(cube.GetPrim())
print(tuple(round(v, 4) for v in translation))
print(round(rotation.GetAngle(), 4), tuple(round(v, 4) for v in rotation.GetAxis()))
print(tuple(round(v, 4) for v in scale))
