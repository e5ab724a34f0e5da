# expect: accept
# what: defensive agent code: try/except around each step, collecting errors with their type names.
from pxr import Sdf, UsdGeom

results = {"ok": [], "errors": []}


def step(label, fn, *args):
    try:
        value = fn(*args)
        results["ok"].append(label)
        return value
    except Exception as exc:  # keep going, report at the end
        results["errors"].append(f"{label}: {type(exc).__name__}: {exc}")
        return None


def make_cube(path):
    return UsdGeom.Cube.Define(stage, path)


def set_size(cube, size):
    if size <= 0:
        raise ValueError(f"size must be > 0, got {size}")
    cube.CreateSizeAttr(size)


def read_missing(path):
    prim = stage.GetPrimAtPath(path)
    if not prim:
        raise LookupError(f"no prim at {path}")
    return prim


def parse_path(text):
    if not Sdf.Path.IsValidPathString(text):
        raise ValueError(f"invalid path {text!r}")
    return Sdf.Path(text)


cube = step("define", make_cube, "/World/Box")
step("size ok", set_size, cube, 2.0)
step("size bad", set_size, cube, -1)
step("missing", read_missing, "/World/Nope")
step("path", parse_path, "/World/Fine")
step("bad path", parse_path, "World//Bad")
step("division", lambda: 1 / 0)

print("ok:", results["ok"])
for err in results["errors"]:
    print("error:", err)
