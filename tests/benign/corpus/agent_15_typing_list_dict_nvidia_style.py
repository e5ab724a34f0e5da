# expect: accept
# what: NVIDIA-snippet style: typing.List/Dict hints on small functions that create and return prims.
from typing import Dict, List

from pxr import Gf, Sdf, Usd, UsdGeom


def create_xforms(stage: Usd.Stage, parent: Sdf.Path, names: List[str]) -> List[UsdGeom.Xform]:
    xforms = []
    for name in names:
        xforms.append(UsdGeom.Xform.Define(stage, parent.AppendChild(name)))
    return xforms


def set_translations(xforms: List[UsdGeom.Xform], offsets: Dict[str, Gf.Vec3d]) -> None:
    for xform in xforms:
        offset = offsets.get(xform.GetPrim().GetName())
        if offset is not None:
            xform.AddTranslateOp().Set(offset)


def get_translations(stage: Usd.Stage, root: str) -> Dict[str, Gf.Vec3d]:
    out: Dict[str, Gf.Vec3d] = {}
    for prim in stage.GetPrimAtPath(root).GetChildren():
        out[prim.GetName()] = UsdGeom.Xformable(prim).GetLocalTransformation().ExtractTranslation()
    return out


xforms = create_xforms(stage, Sdf.Path("/World/Markers"), ["Start", "Middle", "End"])
set_translations(xforms, {"Start": Gf.Vec3d(0, 0, 0), "End": Gf.Vec3d(10, 0, 0)})
for name, value in get_translations(stage, "/World/Markers").items():
    print(name, value)
