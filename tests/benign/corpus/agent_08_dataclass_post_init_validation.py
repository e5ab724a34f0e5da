# expect: accept
# what: a dataclass with __post_init__ validation and a classmethod constructor, used to place lights.
from dataclasses import asdict, dataclass

from pxr import Gf, UsdGeom, UsdLux


@dataclass
class LightSpec:
    name: str
    kind: str
    intensity: float
    position: tuple = (0.0, 3.0, 0.0)

    def __post_init__(self):
        if self.kind not in ("sphere", "rect", "disk"):
            raise ValueError(f"unknown light kind {self.kind!r}")
        if self.intensity <= 0:
            raise ValueError("intensity must be positive")
        self.name = self.name.strip().replace(" ", "_")

    @classmethod
    def from_row(cls, row: str) -> "LightSpec":
        name, kind, intensity, x, y, z = [c.strip() for c in row.split(",")]
        return cls(name, kind, float(intensity), (float(x), float(y), float(z)))


ROWS = """Key Light, rect, 1500, 2, 3, 2
Fill, sphere, 400, -2, 2, 1
Bad One, laser, 10, 0, 0, 0
Under, disk, -5, 0, 0, 0"""

SCHEMAS = {"sphere": UsdLux.SphereLight, "rect": UsdLux.RectLight, "disk": UsdLux.DiskLight}
for row in ROWS.splitlines():
    try:
        spec = LightSpec.from_row(row)
    except ValueError as err:
        print("skipped:", err)
        continue
    light = SCHEMAS[spec.kind].Define(stage, f"/World/Lights/{spec.name}")
    light.CreateIntensityAttr(spec.intensity)
    UsdGeom.Xformable(light).AddTranslateOp().Set(Gf.Vec3d(*spec.position))
    print("created:", asdict(spec))
