"""Asset-path checks: every path a script hands to USD must land under the policy's asset roots.

USD resolves a relative asset path against the layer it is authored in (the *anchor*); a bare
name ("chair.usda") may also be looked up on the resolver's search path. We canonicalise the way the
default resolver would (anchor directory, then ``realpath`` so symlinks cannot escape) and refuse
anything that is not inside a root. Anonymous layers (``anon:``) are accepted only when the job
itself created them or they belong to the job stage: another tenant's anonymous layer is never
reachable by guessing its identifier.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_DRIVE_RE = re.compile(r"^[A-Za-z]:([\\/]|$)")  # C:/x, C:\x, C: - not a URL scheme
MAX_ASSET_PATH = 4096


class AssetDenied(PermissionError):
    """An asset path points outside the policy's asset roots."""


def _inside(path: str, roots: Iterable[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def _anchor_dir(anchor: Any) -> str | None:
    """Directory of a file-backed layer, or None for anonymous/in-memory layers."""
    if anchor is None:
        return None
    try:
        if anchor.anonymous:
            return None
        real = anchor.realPath
    except Exception:
        return None
    return os.path.dirname(real) if real else None


def check_asset_path(path: Any, roots: tuple[str, ...], anchor: Any = None, known_anon: Iterable[str] = (),
                     require_exists: bool = False) -> str:
    """Return the path to hand to USD for `path`, or raise AssetDenied with an actionable message.

    For a relative path anchored to an anonymous layer the canonical absolute path is returned, so
    that what USD opens is exactly what was checked (it would otherwise resolve against the cwd).
    """
    if hasattr(path, "path") and not isinstance(path, str):  # Sdf.AssetPath
        path = path.path
    if not isinstance(path, str):
        raise AssetDenied(f"asset path must be a string, not {type(path).__name__}")
    if path == "":
        return ""  # internal reference / cleared value
    if len(path) > MAX_ASSET_PATH or "\x00" in path or any(ord(c) < 32 for c in path):
        raise AssetDenied("asset path is too long or contains control characters")
    if path.startswith("anon:"):
        if path in set(known_anon):
            return path
        raise AssetDenied(f"anonymous layer {path!r} was not created by this job")
    if _DRIVE_RE.match(path):
        raise AssetDenied(f"asset path {path!r} is a Windows drive path, which this host cannot open; use a path "
                          "relative to the layer or the asset root (e.g. 'props/chair.usd')")
    if _SCHEME_RE.match(path):
        raise AssetDenied(f"asset path {path!r} is a URL ({path.split(':', 1)[0]}:); only local paths under the "
                          "asset roots are allowed, e.g. 'props/chair.usd'")
    if not roots:
        raise AssetDenied("this policy allows no external assets (no asset roots configured)")
    # Strip a USD file-format-argument suffix such as "x.usda:SDF_FORMAT_ARGS:..." before checking.
    base = path.split(":SDF_FORMAT_ARGS:", 1)[0]
    if os.path.isabs(base):
        candidate = base
    else:
        anchor_dir = _anchor_dir(anchor)
        search_style = not (base.startswith("./") or base.startswith("../"))
        if anchor_dir is None:
            # Relative to an anonymous layer the resolver would use the process cwd: resolve against
            # the first root instead, insist the file exists there, and author the absolute path.
            candidate = os.path.join(roots[0], base)
            canon = os.path.realpath(candidate)
            if not _inside(canon, roots) or not os.path.exists(canon):
                raise AssetDenied(f"asset {path!r} was not found under the allowed asset roots")
            return canon
        else:
            candidate = os.path.join(anchor_dir, base)
            # A search-path style name that is not found next to its anchor would be looked up
            # on the resolver's search path, which we do not control.
            require_exists = require_exists or search_style
    canon = os.path.realpath(candidate)
    if not _inside(canon, roots):
        raise AssetDenied(f"asset path {path!r} resolves outside the policy's {len(roots)} asset root(s); use a "
                          "path relative to the layer or the asset root (e.g. 'props/chair.usd'), without '..'")
    if require_exists and not os.path.exists(canon):
        raise AssetDenied(f"asset {path!r} was not found under the allowed asset roots")
    return path


def check_asset_value(path: Any, roots: tuple[str, ...]) -> None:
    """Sdf.AssetPath values (textures etc.) are not opened by USD itself; refuse only clear escapes."""
    if hasattr(path, "path") and not isinstance(path, str):
        path = path.path
    if not isinstance(path, str) or path == "":
        return
    if len(path) > MAX_ASSET_PATH or "\x00" in path:
        raise AssetDenied("asset path is too long or contains NUL")
    if _SCHEME_RE.match(path) or os.path.isabs(path):
        check_asset_path(path, roots)
        return
    parts = path.replace("\\", "/").split("/")
    depth = 0
    for part in parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                raise AssetDenied(f"asset path {path!r} climbs out of its layer's directory with '..'")
        elif part not in ("", "."):
            depth += 1
