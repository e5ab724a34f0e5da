# expect: accept
# what: NVIDIA-snippet style: toggle visibility with MakeVisible/MakeInvisible and read the computed value.
from pxr import Sdf, Usd, UsdGeom


def set_visibility(stage: Usd.Stage, prim_path: str, visible: bool) -> None:
    prim = stage.GetPrimAtPath(prim_path)
    imageable = UsdGeom.Imageable(prim)
    if visible:
        imageable.MakeVisible()
    else:
        imageable.MakeInvisible()


def is_visible(stage: Usd.Stage, prim_path: str) -> bool:
    return UsdGeom.Imageable(stage.GetPrimAtPath(prim_path)).ComputeVisibility() != UsdGeom.Tokens.invisible


#############
# Full Usage
#############

default_prim = stage.GetDefaultPrim()
xform = UsdGeom.Xform.Define(stage, default_prim.GetPath().AppendPath("Group"))
cube = UsdGeom.Cube.Define(stage, xform.GetPath().AppendPath("Cube"))

set_visibility(stage, str(xform.GetPath()), False)
print("cube visible after hiding group:", is_visible(stage, str(cube.GetPath())))
set_visibility(stage, str(xform.GetPath()), True)
print("cube visible after showing group:", is_visible(stage, str(cube.GetPath())))
print("authored:", xform.GetVisibilityAttr().Get(), Sdf.Path(str(cube.GetPath())).name)
