# expect: accept
# what: dump attribute values of mixed pxr types to JSON using default=str and a custom encoder function.
import json

from pxr import Gf, Sdf, UsdGeom

cam = UsdGeom.Camera.Define(stage, "/World/Cam")
cam.CreateClippingRangeAttr(Gf.Vec2f(0.1, 500))
cam.CreateFocalLengthAttr(35.0)
cam.CreateProjectionAttr(UsdGeom.Tokens.perspective)
cam.AddTranslateOp().Set(Gf.Vec3d(1, 2, 3))
cam.GetPrim().CreateAttribute("user:notes", Sdf.ValueTypeNames.String).Set("wide establishing shot")


def encode(value):
    if isinstance(value, (Gf.Vec2f, Gf.Vec3d, Gf.Vec3f)):
        return [round(float(v), 3) for v in value]
    return str(value)


values = {a.GetName(): a.Get() for a in cam.GetPrim().GetAuthoredAttributes()}
print(json.dumps(values, default=encode, sort_keys=True, indent=1))
print(json.dumps({"type": cam.GetPrim().GetTypeName(), "path": cam.GetPath()}, default=str))
