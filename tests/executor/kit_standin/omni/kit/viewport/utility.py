"""Stand-in for omni.kit.viewport.utility: the active viewport and its capture to a file.

Signatures and behaviour follow NVIDIA's published docs (no Kit code copied):
- `get_active_viewport(usd_context_name="")` "Retrieves the active viewport API instance for a given USD
  context" [doc: VPU-API https://docs.omniverse.nvidia.com/kit/docs/omni.kit.viewport.utility/latest/
  omni.kit.viewport.utility.html]; None when the app has no viewport window [inferred: a service app or
  `--no-window` without omni.kit.viewport.window has none];
- `capture_viewport_to_file(viewport_api, file_path=None, is_hdr=False, render_product_path=None,
  format_desc=None)` "Capture the provided viewport to a file" [doc: VPU-CAPFILE .../omni.kit.viewport.utility.
  capture_viewport_to_file.html]; it returns a helper whose `wait_for_result()` is awaited for completion
  [doc: VPU-USAGE .../omni.kit.viewport.utility/1.0.19/USAGE_PYTHON.html "Capture Viewport to Image File"];
  the result is the list of AOVs written, falsy when no image was written [doc: VP-CAPTURE
  .../omni.kit.viewport.docs/latest/capture.html, FileCapture example];
- the capture completes on a later frame (it is a future-like object to await [doc: VPU-CAPBUF
  .../capture_viewport_to_buffer.html "A future-like object that can be awaited"]); here: 2 updates;
- ViewportAPI `resolution` and `camera_path` are properties a caller reads and sets [doc: VP-API
  .../omni.kit.viewport.docs/latest/viewport_api.html "Camera", "Resolution"; omni.kit.widget.viewport index:
  `camera_path (ViewportAPI property)`]; `camera_path` reads back as an Sdf.Path.
The image is written at the resolution the viewport has when the capture completes. Its pixels are a flat
stand-in frame, not Kit's renderer: the tests check the file contract (format, size, timing, failures).
`standin_*` are test controls that do not exist in Kit.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

from omni.kit.async_engine import next_frame

FRAMES_TO_CAPTURE = 2
_STATE: dict[str, Any] = {"viewport": None, "fail": False, "hang": False, "captures": []}


class _ViewportAPI:
    def __init__(self, resolution: tuple[int, int] = (1280, 720), camera_path: str = "/OmniverseKit_Persp") -> None:
        from pxr import Sdf

        self._resolution = tuple(resolution)
        self._camera = Sdf.Path(camera_path)
        self.usd_context_name = ""

    @property
    def resolution(self) -> tuple[int, int]:
        return self._resolution

    @resolution.setter
    def resolution(self, value: tuple[int, int]) -> None:
        width, height = value
        self._resolution = (int(width), int(height))

    @property
    def camera_path(self) -> Any:
        return self._camera

    @camera_path.setter
    def camera_path(self, value: Any) -> None:
        from pxr import Sdf

        self._camera = Sdf.Path(str(value))


class _CaptureHelper:
    def __init__(self, viewport: _ViewportAPI, file_path: str | None) -> None:
        self._viewport = viewport
        self._file_path = file_path
        self.seen: dict[str, Any] = {}

    async def wait_for_result(self) -> list[str]:
        for _ in range(FRAMES_TO_CAPTURE):
            await next_frame()
        while _STATE["hang"]:  # a renderer that never delivers the frame
            await next_frame()
        self.seen = {"resolution": self._viewport.resolution, "camera_path": str(self._viewport.camera_path)}
        if _STATE["fail"] or not self._file_path:
            return []
        width, height = self._viewport.resolution
        with open(self._file_path, "wb") as fh:
            fh.write(_flat_png(width, height))
        return ["LdrColor"]


def get_active_viewport(usd_context_name: str = "") -> _ViewportAPI | None:
    return _STATE["viewport"]


def capture_viewport_to_file(viewport_api: Any, file_path: str | None = None, is_hdr: bool = False,
                             render_product_path: str | None = None, format_desc: dict | None = None) -> _CaptureHelper:
    helper = _CaptureHelper(viewport_api, file_path)
    _STATE["captures"].append(helper)
    return helper


def _flat_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes((60, 62, 70)) * width
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


# -- test controls -------------------------------------------------------------------------------------
def standin_set_viewport(resolution: tuple[int, int] | None = (1280, 720)) -> _ViewportAPI | None:
    """Open a viewport with this resolution (None: the app has no viewport)."""
    _STATE["viewport"] = _ViewportAPI(resolution) if resolution is not None else None
    return _STATE["viewport"]


def standin_fail_captures(fail: bool = True) -> None:
    _STATE["fail"] = fail


def standin_hang_captures(hang: bool = True) -> None:
    _STATE["hang"] = hang


def standin_captures() -> list[_CaptureHelper]:
    return list(_STATE["captures"])
