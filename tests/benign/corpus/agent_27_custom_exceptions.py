# expect: accept
# what: custom exception classes, raise ... from, try/except/else/finally in a publish-check step.
from pxr import Sdf, UsdGeom


class PipelineError(Exception):
    """Base class for publish problems."""


class MissingPrimError(PipelineError):
    def __init__(self, path: str):
        super().__init__(f"required prim missing: {path}")
        self.path = path


class BadValueError(PipelineError):
    pass


REQUIRED = {"/World/Hero": "Xform", "/World/Hero/Body": "Mesh", "/World/Cam": "Camera"}
UsdGeom.Xform.Define(stage, "/World/Hero")
UsdGeom.Mesh.Define(stage, "/World/Hero/Body")


def check(path: str, type_name: str) -> None:
    prim = stage.GetPrimAtPath(path)
    if not prim:
        raise MissingPrimError(path)
    try:
        if prim.GetTypeName() != type_name:
            raise TypeError(prim.GetTypeName())
    except TypeError as err:
        raise BadValueError(f"{path} is a {err}, expected {type_name}") from err


report = []
for path, type_name in REQUIRED.items():
    try:
        check(path, type_name)
    except MissingPrimError as err:
        report.append(("missing", err.path))
    except PipelineError as err:
        report.append(("bad", str(err)))
    else:
        report.append(("ok", path))
    finally:
        Sdf.Path(path)  # paths must at least parse

for status, detail in report:
    print(f"[{status:7s}] {detail}")
print("publishable:", all(status == "ok" for status, _ in report))
