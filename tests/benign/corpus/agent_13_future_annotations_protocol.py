# expect: accept
# what: postponed annotations, a Protocol for "things that build prims", and generic typed containers.
from __future__ import annotations

from typing import Protocol, Sequence

from pxr import Gf, Usd, UsdGeom


class Builder(Protocol):
    def build(self, stage: Usd.Stage, parent: str) -> Usd.Prim: ...


class Pillar:
    def __init__(self, name: str, height: float) -> None:
        self.name = name
        self.height = height

    def build(self, stage: Usd.Stage, parent: str) -> Usd.Prim:
        cyl = UsdGeom.Cylinder.Define(stage, f"{parent}/{self.name}")
        cyl.CreateHeightAttr(self.height)
        cyl.AddTranslateOp().Set(Gf.Vec3d(0, self.height / 2, 0))
        return cyl.GetPrim()


class Arch:
    def __init__(self, name: str, span: float) -> None:
        self.name = name
        self.span = span

    def build(self, stage: Usd.Stage, parent: str) -> Usd.Prim:
        beam = UsdGeom.Cube.Define(stage, f"{parent}/{self.name}")
        beam.AddScaleOp().Set(Gf.Vec3f(self.span / 2, 0.2, 0.3))
        return beam.GetPrim()


def build_all(stage: Usd.Stage, parent: str, parts: Sequence[Builder]) -> list[Usd.Prim]:
    return [p.build(stage, parent) for p in parts]


prims = build_all(stage, "/World/Gate", [Pillar("Left", 4.0), Pillar("Right", 4.0), Arch("Top", 5.0)])
for prim in prims:
    print(prim.GetPath(), prim.GetTypeName())
