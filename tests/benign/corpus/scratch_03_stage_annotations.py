# expect: accept
# what: variable annotations, as most USD samples and LLMs write them.
from pxr import Usd, UsdGeom, Sdf, Gf

scratch: Usd.Stage = Usd.Stage.CreateInMemory()
xform: UsdGeom.Xform = UsdGeom.Xform.Define(scratch, "/Root")
path: Sdf.Path = xform.GetPath()
offset: Gf.Vec3d = Gf.Vec3d(1, 2, 3)
count: int = 0
names: list[str] = []
for i in range(3):
    child: UsdGeom.Cube = UsdGeom.Cube.Define(stage, f"/World/Annotated/Cube{i}")
    child.AddTranslateOp().Set(offset * i)
    names.append(child.GetPrim().GetName())
    count += 1
print(path, count, names)
