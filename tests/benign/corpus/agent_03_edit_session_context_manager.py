# expect: accept
# what: a context manager class (__enter__/__exit__) that logs a batch of edits made inside an Sdf.ChangeBlock.
from pxr import Sdf, UsdGeom


class EditSession:
    def __init__(self, label: str):
        self.label = label
        self.log = []
        self._depth = 0

    def __enter__(self):
        self._depth += 1
        self.log.append(f"begin {self.label}")
        return self

    def __exit__(self, exc_type, exc, tb):
        self._depth -= 1
        self.log.append(f"end {self.label} ({'error' if exc_type else 'ok'})")
        return False

    def note(self, message: str) -> None:
        self.log.append("  " + message)


layer = stage.GetRootLayer()
with EditSession("bulk create") as session, Sdf.ChangeBlock():
    for i in range(10):
        spec = Sdf.CreatePrimInLayer(layer, f"/World/Bulk/Item{i}")
        spec.specifier = Sdf.SpecifierDef
        spec.typeName = "Cube"
        session.note(f"created {spec.path}")

print("\n".join(session.log[:3] + ["  ..."] + session.log[-2:]))
print("cubes:", sum(1 for p in stage.Traverse() if p.IsA(UsdGeom.Cube)))
