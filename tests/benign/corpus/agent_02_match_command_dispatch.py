# expect: accept
# what: an agent's command interpreter: a list of commands dispatched with a match statement.
from pxr import Gf, UsdGeom, UsdLux

COMMANDS = [
    ("create", "Cube", "/World/Box", {"size": 2.0}),
    ("create", "Sphere", "/World/Ball", {"radius": 0.75}),
    ("move", "/World/Ball", (0, 2, 0)),
    ("light", "/World/Key", 1200.0),
    ("delete", "/World/Box"),
    ("noop",),
]


def run(cmd) -> str:
    match cmd:
        case ("create", "Cube", path, {"size": size}):
            UsdGeom.Cube.Define(stage, path).CreateSizeAttr(size)
            return f"cube {path} size={size}"
        case ("create", "Sphere", path, {"radius": radius}):
            UsdGeom.Sphere.Define(stage, path).CreateRadiusAttr(radius)
            return f"sphere {path} r={radius}"
        case ("move", path, (x, y, z)):
            UsdGeom.Xformable(stage.GetPrimAtPath(path)).AddTranslateOp().Set(Gf.Vec3d(x, y, z))
            return f"moved {path}"
        case ("light", path, float(intensity)):
            UsdLux.SphereLight.Define(stage, path).CreateIntensityAttr(intensity)
            return f"light {path} {intensity:.0f}"
        case ("delete", path):
            stage.RemovePrim(path)
            return f"deleted {path}"
        case _:
            return f"ignored {cmd!r}"


for command in COMMANDS:
    print(run(command))
print(sorted(p.GetName() for p in stage.GetPrimAtPath("/World").GetChildren()))
