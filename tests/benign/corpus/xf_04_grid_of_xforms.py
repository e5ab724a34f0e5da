# expect: accept
# what: a 5x5 grid of Xforms built in a loop with f-string names.
from pxr import UsdGeom, Gf

for row in range(5):
    for col in range(5):
        path = f"/World/Grid/Cell_{row}_{col}"
        cell = UsdGeom.Xform.Define(stage, path)
        cell.AddTranslateOp().Set(Gf.Vec3d(col * 2.0, 0.0, row * 2.0))
print(len(stage.GetPrimAtPath("/World/Grid").GetChildren()), "cells")
