# expect: accept
# what: fluorescent tube lights (CylinderLight) laid out on a ceiling grid via itertools.product.
import itertools

from pxr import Gf, UsdGeom, UsdLux

ROWS, COLS, SPACING, CEILING = 3, 4, 2.5, 3.2
ceiling = UsdGeom.Xform.Define(stage, "/World/Office/Ceiling")
for row, col in itertools.product(range(ROWS), range(COLS)):
    tube = UsdLux.CylinderLight.Define(stage, ceiling.GetPath().AppendChild(f"Tube_r{row}c{col}"))
    tube.CreateLengthAttr(1.2)
    tube.CreateRadiusAttr(0.02)
    tube.CreateIntensityAttr(600)
    tube.CreateColorAttr(Gf.Vec3f(0.95, 1.0, 1.0))
    x = (col - (COLS - 1) / 2) * SPACING
    z = (row - (ROWS - 1) / 2) * SPACING
    UsdGeom.Xformable(tube).AddTranslateOp().Set(Gf.Vec3d(x, CEILING, z))

tubes = ceiling.GetPrim().GetChildren()
total_length = sum(UsdLux.CylinderLight(t).GetLengthAttr().Get() for t in tubes)
print(f"{len(tubes)} tubes, {total_length:.1f} m of tube")
first, last = tubes[0], tubes[-1]
print(first.GetName(), UsdGeom.Xformable(first).GetLocalTransformation().ExtractTranslation())
print(last.GetName(), UsdGeom.Xformable(last).GetLocalTransformation().ExtractTranslation())
