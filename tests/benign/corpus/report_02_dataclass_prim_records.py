# expect: accept
# what: collect prim records into dataclasses, sort and group them, and print a fixed-width table.
from dataclasses import dataclass, field
from itertools import groupby
from operator import attrgetter

from pxr import Gf, UsdGeom


@dataclass(order=True)
class PrimRecord:
    type_name: str
    path: str
    depth: int = 0
    attributes: list = field(default_factory=list, compare=False)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


for i in range(3):
    UsdGeom.Cube.Define(stage, f"/World/Set/Crate{i}").AddTranslateOp().Set(Gf.Vec3d(i, 0, 0))
    UsdGeom.Sphere.Define(stage, f"/World/Set/Ball{i}")
UsdGeom.Camera.Define(stage, "/World/Cam")

records = sorted(
    PrimRecord(p.GetTypeName(), str(p.GetPath()), p.GetPath().pathElementCount,
               sorted(a.GetName() for a in p.GetAuthoredAttributes()))
    for p in stage.Traverse()
)
for type_name, group in groupby(records, key=attrgetter("type_name")):
    items = list(group)
    print(f"{type_name or '-'} ({len(items)})")
    for rec in items:
        print(f"    {rec.name:<8} depth={rec.depth} authored={len(rec.attributes)}")
