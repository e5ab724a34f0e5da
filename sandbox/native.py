"""Inputs that make USD's native code recurse until the stack overflows (SIGSEGV).

USD recurses once per nesting level when it parses a path (`/A.r[/B.r[...]]`), a path expression,
a variable expression or layer text, and once per path element when it creates a prim. About 50,000
levels overflow an 8 MB stack. In an isolated child that is a contained crash; in-process (`trusted`,
Kit's main thread) it kills the host. Nothing a scene needs comes near MAX_DEPTH, so anything deeper
is refused before USD sees it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kitgate.sandbox.guards import SandboxDenied

MAX_DEPTH = 1000
_NOT_BRACKET = re.compile(r"[^\[\](){}]+")
_OPEN = frozenset("[({")
_NESTED_SCAN_MAX = 1000  # containers inside a list/tuple are scanned only for lists up to this length
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


def path_depth(value: Any) -> int:
    if type(value) is str:
        return value.count("/")
    if not _SDF_PATH:
        from pxr import Sdf

        _SDF_PATH.append(Sdf.Path)
    if type(value) is _SDF_PATH[0]:
        return value.pathElementCount
    return 0


def check_paths(values: Any) -> None:
    for v in values:
        if path_depth(v) > MAX_DEPTH:
            raise SandboxDenied(f"paths deeper than {MAX_DEPTH} elements are refused: {_HINT}")


def _scan(value: Any, depth: int) -> None:
    t = type(value)
    if t is str:
        if len(value) > MAX_DEPTH and is_deep_text(value):
            raise SandboxDenied(f"a string argument nested deeper than {MAX_DEPTH} levels is refused: {_HINT}")
    elif t is list or t is tuple:
        if not value or depth > 1:
            return
        kinds = set(map(type, value))  # C speed: a million floats cost no Python loop
        if str in kinds and not (len(kinds) == 1 and max(map(len, value)) <= MAX_DEPTH):
            # each distinct long string once: [s] * 3000 must not scan s 3000 times
            for x in {x for x in value if type(x) is str and len(x) > MAX_DEPTH}:
                if is_deep_text(x):
                    raise SandboxDenied(f"a string argument nested deeper than {MAX_DEPTH} levels is refused: "
                                        f"{_HINT}")
        if len(value) <= _NESTED_SCAN_MAX and kinds & {list, tuple, dict}:
            for x in value:
                _scan(x, depth + 1)
    elif t is dict and depth <= 1 and len(value) <= _NESTED_SCAN_MAX:
        for k, v in value.items():
            _scan(k, depth + 1)
            _scan(v, depth + 1)


_SCANNED = frozenset({str, list, tuple, dict})


def check_args(args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> None:
    """Refuse strings that a native path/expression/text parser would recurse on (see module doc)."""
    for a in args:
        if type(a) in _SCANNED:
            _scan(a, 0)
    if kwargs:
        for a in kwargs.values():
            if type(a) in _SCANNED:
                _scan(a, 0)


def checked_call(fn: Callable[..., Any], ctx: Any = None) -> Callable[..., Any]:
    """`fn` with its arguments scanned first (in-process mode wraps every native callable with it);
    with the job's context, a callable the script kept refuses to run after the job.
    The loop is inlined: this runs on every pxr call of a trusted job."""
    scanned = _SCANNED
    scan = _scan

    def call(*args: Any, **kwargs: Any) -> Any:
        if ctx is not None and ctx.closed:
            raise ctx.trip("closed", "the job has ended")
        for a in args:
            if type(a) in scanned:
                scan(a, 0)
        if kwargs:
            check_args((), kwargs)
        return fn(*args, **kwargs)

    return call
