"""Inputs that make USD's native code recurse until the stack overflows (SIGSEGV).

USD recurses once per nesting level when it parses a path (`/A.r[/B.r[...]]`), a path expression,
a variable expression or layer text, and once per path element when it creates a prim. About 50,000
levels overflow an 8 MB stack. In an isolated child that is a contained crash; in-process (`trusted`,
Kit's main thread) it kills the host. Nothing a scene needs comes near MAX_DEPTH, so anything deeper
is refused before USD sees it.

The same holds for objects, not only text: USD renders a nested target path recursively (`.pathString`
of a 300,000-level `AppendTarget` chain), converts nested dicts/lists to VtDictionary/VtValue
recursively, and writes prim trees recursively. So depth is bounded where it is *created*: every
Sdf.Path a call returns (:func:`check_result_path`), every container handed to native code
(:func:`check_value`, an iterative level-by-level walk with a depth and item budget), and every
subtree copy or composed tree about to be written (:func:`subtree_height`, :func:`composed_height`).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from functools import partial
from itertools import chain, compress
from typing import Any

from kitgate.sandbox.runtime.guards import SandboxDenied

MAX_DEPTH = 1000
_NOT_BRACKET = re.compile(r"[^\[\](){}]+")
_OPEN = frozenset("[({")
_HINT = ("USD's parsers recurse once per level and would overflow the native stack; keep prim paths "
         f"under {MAX_DEPTH} elements and brackets nested under {MAX_DEPTH} levels")

_SDF_PATH: list[type] = []


def nesting(text: str) -> int:
    """Deepest bracket nesting in `text`, all bracket kinds alike, strings included (a quoted
    `pathExpression` value is parsed too); a stray closing bracket never lowers the depth below 0."""
    depth = deepest = 0
    for ch in _NOT_BRACKET.sub("", text):
        if ch in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
        elif depth:
            depth -= 1
    return deepest


def is_deep_text(text: str) -> bool:
    """Cheap for ordinary strings: only long strings with many brackets are scanned."""
    if len(text) <= MAX_DEPTH or text.count("[") + text.count("(") + text.count("{") <= MAX_DEPTH:
        return False
    return nesting(text) > MAX_DEPTH


def check_text(text: str, what: str) -> None:
    if type(text) is str and is_deep_text(text):
        raise SandboxDenied(f"{what} nested deeper than {MAX_DEPTH} levels is refused: {_HINT}")


def _sdf_path_type() -> type:
    if not _SDF_PATH:
        from pxr import Sdf

        _SDF_PATH.append(Sdf.Path)
    return _SDF_PATH[0]


def path_nesting(path: Any, limit: int = MAX_DEPTH) -> int:
    """Elements of an Sdf.Path counting every nested target path (`/A.r[/B.r[/C]]` is 7): USD renders
    and compares target paths recursively, so this is the native recursion depth. Iterative, and it
    stops counting past `limit` (its cost is bounded by the limit, not by the path)."""
    total = path.pathElementCount
    if total > limit or not path.ContainsTargetPath():
        return total
    stack = [path]
    total = 0
    while stack and total <= limit:
        q = stack.pop()
        total += q.pathElementCount
        if q.ContainsTargetPath():
            stack.extend(p.targetPath for p in q.GetPrefixes() if p.IsTargetPath() or p.IsMapperPath())
    return total


def path_depth(value: Any) -> int:
    if type(value) is str:
        return value.count("/")
    if type(value) is _sdf_path_type():
        return path_nesting(value)
    return 0


def check_paths(values: Any) -> None:
    for v in values:
        if path_depth(v) > MAX_DEPTH:
            raise SandboxDenied(f"paths deeper than {MAX_DEPTH} elements are refused: {_HINT}")


def check_result_path(value: Any) -> Any:
    """A path a call just made (AppendTarget, ReplacePrefix, Sdf.Path(...)): refused once it is deeper
    than MAX_DEPTH, so no deeper path ever exists for `.pathString` or a later call to recurse on."""
    if type(value) is _sdf_path_type() and path_nesting(value) > MAX_DEPTH:
        raise SandboxDenied(f"this call would make a path deeper than {MAX_DEPTH} elements (nested target paths "
                            f"count): {_HINT}")
    return value


# --- containers handed to native code ----------------------------------------------------------------

MAX_NESTING = 200  # containers inside containers: a VtDictionary/VtValue converts them recursively
MAX_WALK_ITEMS = 50_000_000  # items looked at for one call (C-speed per level), not a memory limit
_CONTAINERS = frozenset({list, tuple, dict, set, frozenset})
_is_str = partial(operator.is_, str)
_is_container = _CONTAINERS.__contains__
_longer_than_depth = partial(operator.lt, MAX_DEPTH)
_HINT_NEST = (f"native code converts nested lists/dicts recursively; keep them under {MAX_NESTING} levels "
              f"(customData, assetInfo and metadata dictionaries are usually 2-3 levels deep)")


def _is_dict(value: Any) -> bool:
    return type(value) is dict


def _level_items(level: list[Any], kinds: set[type]) -> list[Any] | tuple[Any, ...]:
    """All items one level below `level` (dict keys and values), flattened at C speed."""
    if len(level) == 1 and type(level[0]) in (list, tuple):
        return level[0]
    if dict not in kinds:
        return list(chain.from_iterable(level))
    dicts = list(filter(_is_dict, level))
    items = list(chain.from_iterable(c for c in level if type(c) is not dict)) if kinds != {dict} else []
    items.extend(chain.from_iterable(map(dict.keys, dicts)))
    items.extend(chain.from_iterable(map(dict.values, dicts)))
    return items


def _check_strings(items: Any, kinds: set[type]) -> None:
    if kinds == {str}:
        if max(map(len, items), default=0) <= MAX_DEPTH:
            return
        strs: Any = items
    else:
        strs = list(compress(items, map(_is_str, map(type, items))))
    for text in set(compress(strs, map(_longer_than_depth, map(len, strs)))):  # each distinct long string once
        if is_deep_text(text):
            raise SandboxDenied(f"a string argument nested deeper than {MAX_DEPTH} levels is refused: {_HINT}")


def check_value(value: Any) -> None:
    """Walk `value` level by level (never recursively) before native code converts it: strings a
    parser would recurse on, containers nested deeper than MAX_NESTING (cycles included: a dict that
    contains itself is infinitely deep), and at most MAX_WALK_ITEMS items in all."""
    t = type(value)
    if t is str:
        if len(value) > MAX_DEPTH and is_deep_text(value):
            raise SandboxDenied(f"a string argument nested deeper than {MAX_DEPTH} levels is refused: {_HINT}")
        return
    if t not in _CONTAINERS:
        return
    level: list[Any] = [value]
    level_kinds = {t}
    walked = 0
    for depth in range(1, MAX_NESTING + 2):
        walked += sum(map(len, level))
        if dict in level_kinds:
            walked += sum(map(len, filter(_is_dict, level)))  # keys and values
        if walked > MAX_WALK_ITEMS:
            raise SandboxDenied(f"an argument with more than {MAX_WALK_ITEMS} nested items is refused; pass "
                                "arrays as Vt arrays built in steps")
        items = _level_items(level, level_kinds)
        kinds = set(map(type, items))
        if str in kinds:
            _check_strings(items, kinds)
        level_kinds = kinds & _CONTAINERS
        if not level_kinds:
            return
        if depth > MAX_NESTING:
            break
        level = list(compress(items, map(_is_container, map(type, items))))
    raise SandboxDenied(f"containers nested deeper than {MAX_NESTING} levels (or containing themselves) are "
                        f"refused: {_HINT_NEST}")


_SCANNED = frozenset({str, list, tuple, dict, set, frozenset})


def check_args(args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> None:
    """Refuse arguments a native parser or converter would recurse on (see module doc)."""
    for a in args:
        if type(a) in _SCANNED:
            check_value(a)
    if kwargs:
        for a in kwargs.values():
            if type(a) in _SCANNED:
                check_value(a)


def checked_call(fn: Callable[..., Any], ctx: Any = None) -> Callable[..., Any]:
    """`fn` with its arguments scanned first and a path it returns bounded (in-process mode wraps every
    native callable with it); with the job's context, a callable the script kept refuses to run after
    the job. The loop is inlined: this runs on every pxr call of a trusted job."""
    scanned = _SCANNED
    scan = check_value
    sdf_path = _sdf_path_type()

    def call(*args: Any, **kwargs: Any) -> Any:
        if ctx is not None and ctx.closed:
            raise ctx.trip("closed", "the job has ended")
        for a in args:
            if type(a) in scanned:
                scan(a)
        if kwargs:
            check_args((), kwargs)
        out = fn(*args, **kwargs)
        if type(out) is sdf_path and path_nesting(out) > MAX_DEPTH:
            check_result_path(out)
        return out

    return call


# --- prim trees ------------------------------------------------------------------------------------

def _spec_children(spec: Any) -> list[Any]:
    """Prim children of a prim or variant spec, variants' prims included (they nest like children)."""
    children = list(spec.nameChildren.values())
    for variant_set in spec.variantSets.values():
        children.extend(v.primSpec for v in variant_set.variants.values())
    return children


def subtree_height(layer: Any, path: Any, stop: int, tick: Callable[[], None] | None = None) -> int:
    """Levels below `path` in `layer` (0 for a leaf or a property), walked iteratively; stops once it is
    past `stop`. `tick` is called every few thousand specs (the caller's deadline check)."""
    spec = layer.GetObjectAtPath(path)
    if spec is None or not hasattr(spec, "nameChildren"):
        return 0
    base = spec.path.pathElementCount
    stack = [spec]
    height = seen = 0
    while stack:
        s = stack.pop()
        depth = s.path.pathElementCount - base
        if depth > height:
            height = depth
            if height > stop:
                break
        stack.extend(_spec_children(s))
        seen += 1
        if tick is not None and not seen % 4096:
            tick()
    return height


def composed_height(stage: Any, stop: int = MAX_DEPTH, tick: Callable[[], None] | None = None) -> int:
    """Deepest composed prim path of `stage`: internal references can stack many shallow layer trees
    into one deep composed tree, which Flatten/ExportToString then write recursively."""
    from pxr import Usd

    height = 0
    for seen, prim in enumerate(Usd.PrimRange.AllPrims(stage.GetPseudoRoot()), 1):
        depth = prim.GetPath().pathElementCount
        if depth > height:
            height = depth
            if height > stop:
                break
        if tick is not None and not seen % 4096:
            tick()
    return height


def check_tree_room(what: str, dst_depth: int, height: int, instead: str = "") -> None:
    if dst_depth + height > MAX_DEPTH:
        raise SandboxDenied(f"{what} would make or write prims more than {MAX_DEPTH} levels deep: USD writes and "
                            f"composes prim trees recursively. {instead}".rstrip())
