"""Built-in read-only scene scripts behind the scene tools.

They are ordinary kitgate jobs: sent through ``POST /v1/jobs`` under the ``readonly`` policy, compiled,
signed and run by a worker like any other code, so they can do nothing the caller's token and the
policy do not allow (no side door). Arguments from a model (a prim path, a depth) are validated
here first and then embedded only as JSON literals, which are valid Python literals for the ASCII
values we accept -- a path can never become code.
"""

from __future__ import annotations

import json
import re

SCENE_POLICY = "readonly"
MAX_PATH_CHARS = 512
MAX_DEPTH = 8
MAX_LIST_PRIMS = 200
MAX_ATTRIBUTES = 60
MAX_CHILDREN = 100

# Absolute prim paths only: "/", "/World", "/World/Cube_1". No properties, variants, relative
# paths or ".." -- that is all a scene tool needs, and it keeps the accepted alphabet tiny.
_PRIM_PATH_RE = re.compile(r"^/(?:[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)?$")


class SceneArgError(ValueError):
    """A tool argument was refused before any script was built."""


def check_prim_path(path: object) -> str:
    if not isinstance(path, str):
        raise SceneArgError("path must be a string such as '/World' or '/'")
    path = path.strip()
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    if not path or len(path) > MAX_PATH_CHARS:
        raise SceneArgError(f"path must be 1-{MAX_PATH_CHARS} characters")
    if not _PRIM_PATH_RE.match(path):
        raise SceneArgError(
            "path must be an absolute prim path like '/World/Cube' "
            "(segments of letters, digits and underscores, not starting with a digit)"
        )
    return path


def check_depth(depth: object) -> int:
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise SceneArgError("depth must be an integer")
    if not 1 <= depth <= MAX_DEPTH:
        raise SceneArgError(f"depth must be between 1 and {MAX_DEPTH} (1 = direct children only)")
    return depth


def _lit(value: str | int) -> str:
    return json.dumps(value, ensure_ascii=True)


# Helper shared by the scripts: plain data for any USD value, size-capped, computed in the sandbox.
_VALUE_HELPER = """
def plain(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    s = str(v)
    if len(s) > 200:
        s = s[:200] + '...'
    return s
"""


def scene_summary_script() -> str:
    return (
        """
from pxr import UsdGeom
limit = 20000
counts = {}
total = 0
for prim in stage.Traverse():
    total += 1
    t = str(prim.GetTypeName()) or '(untyped)'
    counts[t] = counts.get(t, 0) + 1
    if total >= limit:
        break
top = []
for child in stage.GetPseudoRoot().GetChildren():
    top.append(str(child.GetPath()))
default = stage.GetDefaultPrim()
result = {
    'prim_count': total,
    'count_capped': total >= limit,
    'types': counts,
    'top_level': top[:50],
    'top_level_total': len(top),
    'default_prim': str(default.GetPath()) if default else None,
    'up_axis': str(UsdGeom.GetStageUpAxis(stage)),
    'meters_per_unit': UsdGeom.GetStageMetersPerUnit(stage),
    'time_codes': [stage.GetStartTimeCode(), stage.GetEndTimeCode()],
}
"""
    ).lstrip()


def list_prims_script(path: str, depth: int) -> str:
    path = check_prim_path(path)
    depth = check_depth(depth)
    return (
        f"root_path = {_lit(path)}\nmax_depth = {_lit(depth)}\nlimit = {_lit(MAX_LIST_PRIMS)}\n"
        + """
root = stage.GetPseudoRoot() if root_path == '/' else stage.GetPrimAtPath(root_path)
rows = []
more = 0
if not root or not root.IsValid():
    result = {'error': 'no prim at ' + root_path}
else:
    todo = [(root, 0)]
    while todo:
        prim, level = todo.pop()
        if level > 0:
            if len(rows) < limit:
                rows.append({'path': str(prim.GetPath()), 'type': str(prim.GetTypeName()), 'depth': level})
            else:
                more += 1
        if level < max_depth:
            kids = list(prim.GetChildren())
            kids.reverse()
            for kid in kids:
                todo.append((kid, level + 1))
    result = {'root': root_path, 'depth': max_depth, 'prims': rows, 'not_shown': more}
"""
    ).lstrip()


def get_prim_script(path: str) -> str:
    path = check_prim_path(path)
    return (
        f"prim_path = {_lit(path)}\nmax_attrs = {_lit(MAX_ATTRIBUTES)}\nmax_children = {_lit(MAX_CHILDREN)}\n"
        + "from pxr import UsdGeom\n"
        + _VALUE_HELPER
        + """
prim = stage.GetPrimAtPath(prim_path)
if not prim or not prim.IsValid():
    result = {'error': 'no prim at ' + prim_path}
else:
    attrs = {}
    n = 0
    for attr in prim.GetAttributes():
        n += 1
        if n <= max_attrs:
            attrs[attr.GetName()] = {'type': str(attr.GetTypeName()), 'value': plain(attr.Get())}
    kids = [str(c.GetPath()) for c in prim.GetChildren()]
    info = {
        'path': prim_path,
        'type': str(prim.GetTypeName()),
        'active': prim.IsActive(),
        'applied_schemas': [str(s) for s in prim.GetAppliedSchemas()],
        'attributes': attrs,
        'attributes_total': n,
        'children': kids[:max_children],
        'children_total': len(kids),
    }
    xf = UsdGeom.Xformable(prim)
    if xf:
        info['xform_ops'] = [str(op.GetOpName()) for op in xf.GetOrderedXformOps()]
        info['local_transform'] = plain(xf.GetLocalTransformation())
        world = UsdGeom.XformCache().GetLocalToWorldTransform(prim)
        info['world_transform'] = plain(world)
        info['world_translation'] = plain(world.ExtractTranslation())
    result = info
"""
    ).lstrip()
