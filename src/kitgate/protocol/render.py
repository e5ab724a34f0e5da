"""The picture a job asks for, and the picture part of its result, as both sides of the wire read them.

Why here: a job's `render: {camera?, width, height}` is checked three times, by the controller at submit
(pydantic, against the policy's `[render]` caps), by the worker when it reads the signed claim (stdlib,
inside Kit) and by the client before it sends. The result's `render` entry crosses two trust boundaries
(renderer child -> worker -> controller). Each rule is written once, here, with the same caps.

Wire shapes (plain dicts, no pydantic: this runs inside Kit):

- request, signed with the job (the claim's `limits.render`): `{"width": int, "height": int, "camera": str|None}`;
- result: `{"ok": true, "width", "height", "bytes", "sha256", "render_ms", "png_base64"}` from the worker,
  the controller keeps everything but `png_base64` in the job's result and stores the PNG beside the job;
  `{"ok": false, "error": {"code", "message", "hint"}}` when no picture was made. A failed picture never
  fails the job: the scene change stands, the result says why the picture is missing.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from collections.abc import Mapping
from typing import Any

from kitgate.protocol.wire import MAX_ERROR_MESSAGE_CHARS

MAX_RENDER_SIDE = 8192  # hard ceiling on width/height anywhere; the policy's [render] caps are the real limit
CAMERA_PATH_PATTERN = r"^(/[A-Za-z_][A-Za-z0-9_]*)+$"  # an absolute prim path of plain identifiers (kitgate.render)
MAX_CAMERA_CHARS = 1024
# Hard ceiling on one PNG in a result: base64 (4/3) plus the rest of the result must fit the controller's
# default request body (KITGATE_MAX_BODY_BYTES, 1 MiB), or the report would be refused (413) and retried
# forever. The policy's [render] max_png_bytes and KITGATE_MAX_IMAGE_BYTES can only be lower.
MAX_IMAGE_BYTES = 640 * 1024
MAX_IMAGE_B64_CHARS = 4 * ((MAX_IMAGE_BYTES + 2) // 3)
MAX_RENDER_CODE_CHARS = 64
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CAMERA_RE = re.compile(CAMERA_PATH_PATTERN)
# Codes the worker and controller add to the renderer's own (kitgate.render.RENDER_ERROR_CODES).
NOT_RENDERED = "NotRendered"  # the job did not succeed, so no picture of its result was taken
IMAGE_TOO_LARGE = "ImageTooLarge"  # the PNG is over the size a result may carry or the controller stores
RENDER_NOT_ALLOWED = "RenderNotAllowed"  # the worker's own policy does not allow (this) picture
BAD_IMAGE = "BadImage"  # the controller refused bytes that are not a PNG of the asked size


class RenderAskError(ValueError):
    """A render request that breaks a wire rule; the message says which."""


def parse_request(raw: Any) -> dict[str, Any] | None:
    """A render request as `{"width", "height", "camera"}`, or None when none was given. RenderAskError."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise RenderAskError("render must be an object {width, height, camera?}")
    unknown = set(raw) - {"width", "height", "camera"}
    if unknown:
        raise RenderAskError(f"unknown render field(s): {', '.join(sorted(map(str, unknown)))}")
    out: dict[str, Any] = {}
    for key in ("width", "height"):
        v = raw.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_RENDER_SIDE:
            raise RenderAskError(f"render.{key} must be an integer from 1 to {MAX_RENDER_SIDE}")
        out[key] = v
    camera = raw.get("camera")
    if camera is not None and (not isinstance(camera, str) or len(camera) > MAX_CAMERA_CHARS
                               or not CAMERA_RE.fullmatch(camera)):
        raise RenderAskError("render.camera must be an absolute prim path such as /World/Camera")
    out["camera"] = camera
    return out


def over_caps(request: Mapping[str, Any], caps: Any) -> tuple[str, str] | None:
    """(message, hint) when `request` asks more than a policy's RenderCaps allow, else None."""
    if not getattr(caps, "allowed", False):
        return ("this policy does not allow pictures",
                "drop `render`, or use a policy whose [render] has allowed = true")
    width, height = int(request["width"]), int(request["height"])
    if width > caps.max_width or height > caps.max_height:
        return (f"render {width}x{height} is larger than the policy's {caps.max_width}x{caps.max_height}",
                f"ask for at most {caps.max_width}x{caps.max_height}")
    if width * height > caps.max_pixels:
        return (f"render {width}x{height} is {width * height:,} pixels, over the policy's {caps.max_pixels:,}",
                f"ask for at most {caps.max_pixels:,} pixels, e.g. 512x512")
    return None


def error(code: str, message: str, hint: str = "") -> dict[str, Any]:
    """The result's `render` entry for a picture that was not made."""
    return {"ok": False, "error": {"code": str(code)[:MAX_RENDER_CODE_CHARS],
                                   "message": str(message)[:MAX_ERROR_MESSAGE_CHARS],
                                   "hint": str(hint)[:MAX_ERROR_MESSAGE_CHARS]}}


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR, or None when `data` is not a PNG."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def success(png: bytes, render_ms: float | None, max_bytes: int) -> dict[str, Any]:
    """The result's `render` entry carrying `png`, or an ImageTooLarge error when it is over `max_bytes`."""
    size = png_size(png)
    if size is None:
        return error("RenderFailed", "the renderer returned bytes that are not a PNG")
    limit = min(int(max_bytes), MAX_IMAGE_BYTES)
    if len(png) > limit:
        return error(IMAGE_TOO_LARGE, f"the picture is {len(png):,} bytes, over the limit of {limit:,} bytes",
                     "ask for a smaller width/height; the job's scene change itself was applied")
    entry: dict[str, Any] = {"ok": True, "width": size[0], "height": size[1], "bytes": len(png),
                             "sha256": hashlib.sha256(png).hexdigest(),
                             "png_base64": base64.b64encode(png).decode("ascii")}
    if render_ms is not None:
        entry["render_ms"] = float(render_ms)
    return entry


def normalise(raw: Any) -> dict[str, Any] | None:
    """The documented `render` fields only, capped; anything malformed becomes an error entry."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        return error("RenderFailed", "the worker reported a malformed picture")
    if raw.get("ok") is not True:
        err = raw.get("error") if isinstance(raw.get("error"), Mapping) else {}
        return error(str(err.get("code") or "RenderFailed"), str(err.get("message") or "no picture was made"),
                     str(err.get("hint") or ""))
    b64 = raw.get("png_base64")
    if b64 is not None and (not isinstance(b64, str) or len(b64) > MAX_IMAGE_B64_CHARS):
        return error(IMAGE_TOO_LARGE, f"the picture is over the wire limit of {MAX_IMAGE_BYTES:,} bytes",
                     "ask for a smaller width/height")
    out: dict[str, Any] = {"ok": True}
    for key in ("width", "height", "bytes"):
        v = raw.get(key)
        if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_IMAGE_BYTES:
            out[key] = v
    sha = raw.get("sha256")
    if isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha):
        out["sha256"] = sha
    ms = raw.get("render_ms")
    if isinstance(ms, int | float) and not isinstance(ms, bool) and 0 <= ms < 1e9:
        out["render_ms"] = float(ms)
    if b64 is not None:
        out["png_base64"] = b64
    return out


def decode_png(entry: Mapping[str, Any]) -> bytes | None:
    """The PNG bytes a result's `render` entry carries (None: none, or not valid base64)."""
    b64 = entry.get("png_base64")
    if not isinstance(b64, str):
        return None
    try:
        return base64.b64decode(b64, validate=True)
    except ValueError:
        return None
