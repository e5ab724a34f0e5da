"""What a caller asks for (RenderRequest) and what the policy allows (RenderLimits).

Why separate and frozen: the request comes from an agent and the limits from the operator's policy; the
engine and the child process both check one against the other before any work starts, and neither can
be changed on the way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from kitgate.render.errors import RenderError, too_large

# An absolute Sdf prim path with plain identifiers (what a UsdGeom.Camera's path looks like).
CAMERA_PATH_RE = re.compile(r"^(/[A-Za-z_][A-Za-z0-9_]*)+$")
MAX_CAMERA_PATH = 1024


@dataclass(frozen=True)
class RenderRequest:
    """A picture ``width`` x ``height`` pixels, from the camera prim at ``camera`` or an automatic framing."""

    width: int
    height: int
    camera: str | None = None


@dataclass(frozen=True)
class RenderLimits:
    """The caps of one render (from the policy). Every one is checked before the work it bounds."""

    max_width: int = 2048
    max_height: int = 2048
    max_pixels: int = 4_194_304
    max_faces: int = 2_000_000
    max_prims: int = 200_000
    max_instances: int = 100_000
    time_s: float = 20.0
    memory_mb: int = 2048
    max_png_bytes: int = 8_388_608

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> RenderLimits:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})  # type: ignore[arg-type]


def check_request(request: RenderRequest, limits: RenderLimits) -> None:
    """Raise RenderError unless ``request`` is well formed and within ``limits`` (no rendering happens)."""
    for name in ("width", "height"):
        value = getattr(request, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise RenderError("BadRequest", f"render {name} must be a positive integer, got {value!r}",
                              "ask for e.g. width=512, height=512")
    if request.width > limits.max_width:
        raise too_large("render width", request.width, limits.max_width, f"ask for width <= {limits.max_width}")
    if request.height > limits.max_height:
        raise too_large("render height", request.height, limits.max_height,
                        f"ask for height <= {limits.max_height}")
    pixels = request.width * request.height
    if pixels > limits.max_pixels:
        raise too_large("the pixel count (width x height)", pixels, limits.max_pixels,
                        "ask for a smaller picture, e.g. 1024x1024 or less")
    cam = request.camera
    bad = not isinstance(cam, str) or len(cam) > MAX_CAMERA_PATH or not CAMERA_PATH_RE.fullmatch(cam)
    if cam is not None and bad:  # fullmatch: `$` alone also matches before a trailing newline
        raise RenderError("BadRequest", f"camera must be an absolute prim path such as /World/Camera, got {cam!r}",
                          "name a UsdGeom.Camera prim, or leave camera out for an automatic framing")


def request_from_dict(data: dict[str, object]) -> RenderRequest:
    """A RenderRequest from plain JSON-like data (the child's input)."""
    cam = data.get("camera")
    return RenderRequest(width=data.get("width"), height=data.get("height"),  # type: ignore[arg-type]
                         camera=cam if cam is None else str(cam))


def asset_bases(asset_base: Path | str | Sequence[Path | str] | None) -> tuple[str, ...]:
    """The real paths of the asset root(s): one path, several, or none."""
    if asset_base is None:
        return ()
    items = [asset_base] if isinstance(asset_base, str | Path) else list(asset_base)
    return tuple(os.path.realpath(str(p)) for p in items if str(p))
