# expect: accept
# what: validate input with try/except and assert, then build.
from pxr import Sdf, UsdGeom

requested = ["/World/Good", "not a path", "/World/Also Good", "/World/Fine_2"]
made, skipped = [], []
for text in requested:
    try:
        if not Sdf.Path.IsValidPathString(text):
            raise ValueError(f"invalid path: {text!r}")
        UsdGeom.Xform.Define(stage, text)
        made.append(text)
    except ValueError as exc:
        skipped.append(str(exc))
assert made, "nothing made"
print("made:", made)
print("skipped:", skipped)
