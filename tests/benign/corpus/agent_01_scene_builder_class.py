# expect: accept
# what: the SceneBuilder class an LLM agent typically writes: private state, fluent methods, __repr__, main guard.
from __future__ import annotations

from pxr import Gf, Sdf, Usd, UsdGeom


class SceneBuilder:
    """Small fluent wrapper around a stage, keeping track of what it created."""

    def __init__(self, stage: Usd.Stage, root: str = "/World") -> None:
        self._stage = stage
        self._root = Sdf.Path(root)
        self._created: list[Sdf.Path] = []

    def _path(self, name: str) -> Sdf.Path:
        return self._root.AppendPath(name)

    def add_cube(self, name: str, size: float = 1.0, position=(0, 0, 0)) -> SceneBuilder:
        cube = UsdGeom.Cube.Define(self._stage, self._path(name))
        cube.CreateSizeAttr(size)
        cube.AddTranslateOp().Set(Gf.Vec3d(*position))
        self._created.append(cube.GetPath())
        return self

    def add_sphere(self, name: str, radius: float = 0.5, position=(0, 0, 0)) -> SceneBuilder:
        sphere = UsdGeom.Sphere.Define(self._stage, self._path(name))
        sphere.CreateRadiusAttr(radius)
        sphere.AddTranslateOp().Set(Gf.Vec3d(*position))
        self._created.append(sphere.GetPath())
        return self

    @property
    def created(self) -> list[str]:
        return [str(p) for p in self._created]

    def __len__(self) -> int:
        return len(self._created)

    def __repr__(self) -> str:
        return f"SceneBuilder(root={self._root}, created={len(self)})"


def main() -> None:
    builder = SceneBuilder(stage, "/World/Generated")
    builder.add_cube("Base", 2.0).add_sphere("Ball", 0.5, (0, 1.5, 0)).add_cube("Pillar", 0.5, (2, 0.25, 0))
    print(builder)
    for path in builder.created:
        print(" -", path, stage.GetPrimAtPath(path).GetTypeName())


if __name__ == "__main__":
    main()
