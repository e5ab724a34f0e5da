# expect: accept
# what: a validation pass with an IntEnum severity and a small Issue class (with __repr__ and __lt__).
from enum import IntEnum

from pxr import UsdGeom, UsdShade


class Severity(IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3


class Issue:
    def __init__(self, severity: Severity, path: str, message: str):
        self.severity = severity
        self.path = path
        self.message = message

    def __repr__(self) -> str:
        return f"Issue({self.severity.name}, {self.path!r}, {self.message!r})"

    def __lt__(self, other: "Issue") -> bool:
        return (-self.severity, self.path) < (-other.severity, other.path)


UsdGeom.Mesh.Define(stage, "/World/EmptyMesh")
cube = UsdGeom.Cube.Define(stage, "/World/Unbound")
UsdGeom.Sphere.Define(stage, "/World/Tiny").CreateRadiusAttr(0.0001)

issues = []
for prim in stage.Traverse():
    if prim.IsA(UsdGeom.Mesh) and not UsdGeom.Mesh(prim).GetPointsAttr().Get():
        issues.append(Issue(Severity.ERROR, str(prim.GetPath()), "mesh has no points"))
    if prim.IsA(UsdGeom.Gprim) and not UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial()[0]:
        issues.append(Issue(Severity.WARNING, str(prim.GetPath()), "no material bound"))
    if prim.IsA(UsdGeom.Sphere) and UsdGeom.Sphere(prim).GetRadiusAttr().Get() < 0.001:
        issues.append(Issue(Severity.INFO, str(prim.GetPath()), "very small sphere"))

for issue in sorted(issues):
    print(issue)
worst = max(i.severity for i in issues)
print("worst:", worst.name, "| errors:", sum(i.severity == Severity.ERROR for i in issues))
