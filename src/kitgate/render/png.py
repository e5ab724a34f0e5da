"""PNG encoding with the standard library (zlib): one picture format, no image library in the worker.

Why not Pillow: the worker only ever writes 8-bit RGB, which is a few lines of the PNG spec; tests decode
with Pillow, an independent implementation, so a wrong encoder cannot pass them.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(rgb: np.ndarray, text: dict[str, str] | None = None) -> bytes:
    """A PNG of an (H, W, 3) uint8 image, rows filtered with Sub, plus optional tEXt entries (latin-1)."""
    h, w, c = rgb.shape
    if c != 3 or rgb.dtype != np.uint8:
        raise ValueError("encode_png wants an (H, W, 3) uint8 array")
    sub = rgb.copy()
    sub[:, 1:, :] = rgb[:, 1:, :] - rgb[:, :-1, :]  # uint8 arithmetic wraps, as the Sub filter wants
    raw = np.empty((h, 1 + w * 3), dtype=np.uint8)
    raw[:, 0] = 1
    raw[:, 1:] = sub.reshape(h, w * 3)
    out = [SIGNATURE, _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))]
    for key, value in (text or {}).items():
        payload = key.encode("latin-1", "replace")[:79] + b"\x00" + value.encode("latin-1", "replace")[:4000]
        out.append(_chunk(b"tEXt", payload))
    out.append(_chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)))
    out.append(_chunk(b"IEND", b""))
    return b"".join(out)
