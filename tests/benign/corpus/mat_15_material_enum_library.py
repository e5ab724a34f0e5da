# expect: accept
# what: an Enum of surface finishes mapped to preview-surface parameters, with a small library class.
from enum import Enum

from pxr import Gf, Sdf, UsdGeom, UsdShade


class Finish(Enum):
    MATTE = "matte"
    SATIN = "satin"
    GLOSS = "gloss"
    CHROME = "chrome"

    @property
    def roughness(self) -> float:
        return {"matte": 0.9, "satin": 0.5, "gloss": 0.15, "chrome": 0.05}[self.value]

    @property
    def metallic(self) -> float:
        return 1.0 if self is Finish.CHROME else 0.0


class MaterialLibrary:
    def __init__(self, stage, root="/World/Looks"):
        self._stage = stage
        self._root = root
        self._cache = {}

    def get(self, finish: Finish) -> UsdShade.Material:
        if finish not in self._cache:
            path = f"{self._root}/{finish.name.title()}"
            mat = UsdShade.Material.Define(self._stage, path)
            sh = UsdShade.Shader.Define(self._stage, path + "/Surface")
            sh.CreateIdAttr("UsdPreviewSurface")
            sh.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(finish.roughness)
            sh.CreateInput("metallic", Sdf.ValueTypeNames.Float).Set(finish.metallic)
            mat.CreateSurfaceOutput().ConnectToSource(sh.ConnectableAPI(), "surface")
            self._cache[finish] = mat
        return self._cache[finish]

    def __len__(self):
        return len(self._cache)


lib = MaterialLibrary(stage)
for i, finish in enumerate([Finish.MATTE, Finish.GLOSS, Finish.CHROME, Finish.GLOSS, Finish.SATIN]):
    ball = UsdGeom.Sphere.Define(stage, f"/World/Balls/Ball{i}")
    ball.AddTranslateOp().Set(Gf.Vec3d(i * 2.2, 1, 0))
    UsdShade.MaterialBindingAPI.Apply(ball.GetPrim()).Bind(lib.get(finish))

print(f"{len(lib)} materials for 5 balls")
for finish in Finish:
    print(f"  {finish.name:<7} roughness={finish.roughness:.2f} metallic={finish.metallic:.0f}")
