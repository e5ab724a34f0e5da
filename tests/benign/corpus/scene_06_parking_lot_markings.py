# expect: accept
# what: parking lot: bays along both sides of a lane, line markings as thin cubes, numbered with zfill.
from pxr import Gf, UsdGeom

BAY_WIDTH, BAY_DEPTH, LANE = 2.5, 5.0, 6.0
BAYS_PER_SIDE = 8

lot = UsdGeom.Xform.Define(stage, "/World/ParkingLot")
number = 0
for side in (-1, 1):
    for i in range(BAYS_PER_SIDE):
        number += 1
        bay_id = str(number).zfill(3)
        x = i * BAY_WIDTH
        z = side * (LANE / 2 + BAY_DEPTH / 2)
        bay = UsdGeom.Xform.Define(stage, f"/World/ParkingLot/Bay_{bay_id}")
        bay.AddTranslateOp().Set(Gf.Vec3d(x, 0, z))
        line = UsdGeom.Cube.Define(stage, f"/World/ParkingLot/Bay_{bay_id}/LeftLine")
        line.CreateSizeAttr(1.0)
        line.AddTranslateOp().Set(Gf.Vec3d(-BAY_WIDTH / 2, 0.005, 0))
        line.AddScaleOp().Set(Gf.Vec3f(0.1, 0.01, BAY_DEPTH))
        line.CreateDisplayColorAttr([Gf.Vec3f(1, 1, 1)])
        bay.GetPrim().SetCustomDataByKey("bay:number", number)
        bay.GetPrim().SetCustomDataByKey("bay:accessible", i == 0)

accessible = [p.GetName() for p in lot.GetPrim().GetChildren() if p.GetCustomDataByKey("bay:accessible")]
print("bays:", len(lot.GetPrim().GetChildren()))
print("accessible:", accessible)
