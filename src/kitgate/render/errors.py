"""The one error a render raises: what went wrong, and what to do instead.

Why: a picture is an extra, so every way it can fail (a scene too large, a camera that is not a camera, a
child killed at its time limit) must reach the agent or operator as a code it can branch on, a sentence
that says what happened, and a hint that says what to ask for instead, never as a stack trace.
"""

from __future__ import annotations

RENDER_ERROR_CODES = frozenset({
    "BadRequest",         # width/height not positive integers, a camera path that is not a path
    "RenderTooLarge",     # a size, pixel, prim, face, instance or PNG-size limit
    "RenderTimeout",      # the child ran past limits.time_s (wall clock or CPU)
    "RenderOutOfMemory",  # the child hit its address-space limit
    "RenderFailed",       # the renderer or the child failed for another reason
    "BadCamera",          # the named prim is missing or not a UsdGeom.Camera, or its matrices are not finite
    "NothingToRender",    # no drawable geometry with finite, non-empty bounds
    "AssetRefused",       # the layer composes an asset outside asset_base (or value clips)
    "RendererUnavailable",  # no OpenGL context (Mesa EGL missing): install steps in the hint
})


class RenderError(Exception):
    """A render that did not produce a picture. ``code`` is one of RENDER_ERROR_CODES."""

    def __init__(self, code: str, message: str, hint: str = "") -> None:
        if code not in RENDER_ERROR_CODES:
            code = "RenderFailed"
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict[str, str]:
        """The error's fields, for a job result or the error envelope's details."""
        return {"code": self.code, "message": self.message, "hint": self.hint}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> RenderError:
        """The error a child process reported (codes outside RENDER_ERROR_CODES become RenderFailed)."""
        return cls(str(data.get("code", "RenderFailed")), str(data.get("message", ""))[:2000],
                   str(data.get("hint", ""))[:2000])


def too_large(what: str, value: int, limit: int, hint: str) -> RenderError:
    """RenderTooLarge naming the limit that was hit."""
    return RenderError("RenderTooLarge", f"{what} is {value:,}, over the render limit of {limit:,}", hint)
