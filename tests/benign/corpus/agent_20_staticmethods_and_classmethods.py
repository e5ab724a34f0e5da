# expect: accept
# what: a units helper with classmethods/staticmethods converting between stage units, used for placements.
from pxr import Gf, UsdGeom


class Units:
    _PER_METER = {"m": 1.0, "cm": 100.0, "mm": 1000.0, "in": 39.3701}

    @classmethod
    def stage_unit(cls, stage) -> str:
        mpu = UsdGeom.GetStageMetersPerUnit(stage)
        return min(cls._PER_METER, key=lambda u: abs(1.0 / cls._PER_METER[u] - mpu))

    @classmethod
    def to_stage(cls, stage, value: float, unit: str) -> float:
        return value / cls._PER_METER[unit] / UsdGeom.GetStageMetersPerUnit(stage)

    @staticmethod
    def fmt(value: float, unit: str) -> str:
        return f"{value:.2f} {unit}"


unit = Units.stage_unit(stage)
height_m = 1.8
tall = UsdGeom.Cylinder.Define(stage, "/World/Person")
tall.CreateHeightAttr(Units.to_stage(stage, height_m, "m"))
tall.CreateRadiusAttr(Units.to_stage(stage, 250, "mm"))
print("stage unit:", unit)
print("height:", Units.fmt(tall.GetHeightAttr().Get(), unit), "radius:", Units.fmt(tall.GetRadiusAttr().Get(), unit))
print("door width 36in =", Units.fmt(Units.to_stage(stage, 36, "in"), unit))
