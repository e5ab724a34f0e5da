"""Known scenes for the render tests, as usda text, and helpers that read pixels back with Pillow."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from pxr import Usd


def prim(kind: str, name: str, *, at: tuple[float, float, float] = (0, 0, 0), color: tuple[float, ...] | None = None,
         body: str = "", indent: str = "    ") -> str:
    lines = [f'def {kind} "{name}"', "{"]
    if body:
        lines += [f"    {line}" for line in body.strip().splitlines()]
    if color is not None:
        lines.append(f"    color3f[] primvars:displayColor = [({color[0]}, {color[1]}, {color[2]})]")
    lines.append(f"    double3 xformOp:translate = ({at[0]}, {at[1]}, {at[2]})")
    lines.append('    uniform token[] xformOpOrder = ["xformOp:translate"]')
    lines.append("}")
    return "\n".join(indent + line for line in lines)


def stage_text(*prims: str, up: str = "Y") -> str:
    return f'#usda 1.0\n(\n    upAxis = "{up}"\n)\n\ndef Xform "World"\n{{\n' + "\n".join(prims) + "\n}\n"


RED = (1, 0, 0)
BLUE = (0, 0, 1)
GREEN = (0, 1, 0)


def red_cube_blue_sphere(up: str = "Y", extra: str = "") -> str:
    """A red cube left (-X), a blue sphere right (+X): the scene every pixel test knows."""
    return stage_text(prim("Cube", "Red", at=(-1.5, 0, 0), color=RED, body="double size = 1"),
                      prim("Sphere", "Blue", at=(1.5, 0, 0), color=BLUE, body="double radius = 0.6"),
                      *( [extra] if extra else []), up=up)


def camera(name: str, at: tuple[float, float, float], rotate_y: float = 0.0) -> str:
    return (f'    def Camera "{name}"\n    {{\n'
            f"        double3 xformOp:translate = ({at[0]}, {at[1]}, {at[2]})\n"
            f"        float xformOp:rotateY = {rotate_y}\n"
            '        uniform token[] xformOpOrder = ["xformOp:translate", "xformOp:rotateY"]\n'
            "        float2 clippingRange = (0.1, 1000)\n    }")


def open_text(text: str) -> Usd.Stage:
    stage = Usd.Stage.CreateInMemory()
    assert stage.GetRootLayer().ImportFromString(text)
    return stage


def decode(png: bytes) -> tuple[Image.Image, np.ndarray]:
    img = Image.open(io.BytesIO(png))
    img.load()
    return img, np.asarray(img.convert("RGB"), dtype=np.int32)


def mask(rgb: np.ndarray, channel: int) -> np.ndarray:
    """Pixels where ``channel`` clearly dominates the other two (a lit red/green/blue surface)."""
    others = [c for c in range(3) if c != channel]
    main = rgb[:, :, channel]
    return (main > 60) & (main > 2 * rgb[:, :, others[0]] + 20) & (main > 2 * rgb[:, :, others[1]] + 20)


def mean_x(m: np.ndarray) -> float:
    ys, xs = np.nonzero(m)
    assert xs.size, "no such pixels"
    return float(xs.mean())
