"""Measure a JSON document's shape before anything recursive parses it.

Why: the stdlib parser, pydantic's validation and its serialisation all recurse over nested JSON. A
worker result whose `value` nested ~300 deep was parsed and stored, then every read of the job failed
pydantic's serialisation depth (a 500, for ever); ~100k levels hit the parser's recursion limit. So the
body middleware measures every JSON body here, once, without recursion, and refuses it with a 422 that
names the limit. The same check decides whether a row stored before these limits existed can be served.

How, without a Python loop over the bytes: one `translate` maps `{}` to `[]` and digits to `9`, so a
count finds the containers and a substring search finds a long digit run. Only a body with more
containers than the depth limit has its strings blanked (split on unescaped quotes) and its depth
measured, by deleting innermost `[]` pairs with `bytes.replace`, one pass per level, at most
`max_depth` passes. Refused:
- nesting deeper than `max_depth` (`json_too_deep`): recursion in the parser, the validator, the serialiser;
- more than `max_containers` arrays and objects (`json_too_large`): a million tiny containers cost the
  event loop far more than their bytes suggest;
- an integer literal longer than Python's int/str conversion limit (`json_number_too_long`): the parser
  would fail with a generic error instead of naming the limit.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any

_CLASSES = bytes.maketrans(b"{}0123456789", b"[]9999999999")  # containers as [ ], digits as 9
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]")


@dataclass(frozen=True)
class ShapeLimits:
    max_depth: int
    max_containers: int
    max_digits: int = field(default_factory=sys.get_int_max_str_digits)  # 0: Python sets no limit


@dataclass(frozen=True)
class ShapeProblem:
    code: str
    message: str
    details: dict[str, Any]


def _utf8(payload: bytes) -> bytes | None:
    """The parser also accepts UTF-16/32; their code units can hold quote and bracket bytes, so such a
    body is measured in UTF-8. None: not decodable (the parser refuses it on its own)."""
    encoding = json.detect_encoding(payload)
    if encoding in ("utf-8", "utf-8-sig"):
        return payload
    try:
        return payload.decode(encoding).encode("utf-8", "surrogatepass")
    except UnicodeError:
        return None


def _outside_strings(text: bytes) -> bytes:
    """The document with every string's contents removed. Escapes come in pairs from the left, so
    dropping `\\\\` then `\\"` leaves only the quotes that open and close strings."""
    return b'""'.join(text.replace(b"\\\\", b"").replace(b'\\"', b"").split(b'"')[::2])


def _deeper_than(classes: bytes, limit: int) -> bool:
    """`classes`: translated by _CLASSES, strings blanked. Each pass deletes the innermost level."""
    brackets = classes.translate(None, _NOT_BRACKET)
    for _ in range(limit):
        reduced = brackets.replace(b"[]", b"")
        if len(reduced) == len(brackets):
            break  # empty, or only unmatched brackets left (not JSON: the parser reports that)
        brackets = reduced
    return b"[]" in brackets or brackets.count(b"[") > limit


@functools.lru_cache(maxsize=4)
def _long_integer(limit: int) -> re.Pattern[bytes]:
    # an integer literal: not the fraction or exponent of a float (those parse whatever their length)
    return re.compile(rb"(?<![0-9.eE+-])-?[0-9]{%d,}(?![0-9.eE])" % (limit + 1))


def _too_deep(limits: ShapeLimits) -> ShapeProblem:
    return ShapeProblem(
        "json_too_deep",
        f"the JSON body nests arrays/objects more than {limits.max_depth} levels deep, the limit "
        "(KITGATE_MAX_JSON_DEPTH); flatten the data, or send deep structures as a string",
        {"max_depth": limits.max_depth},
    )


def check_json_shape(payload: bytes, limits: ShapeLimits) -> ShapeProblem | None:
    """None when the document is within every limit (or is not JSON we can measure: the parser decides)."""
    long_run = b"9" * (limits.max_digits + 1) if limits.max_digits else None
    classes = payload.translate(_CLASSES)
    if classes.count(b"[") <= limits.max_depth and (long_run is None or long_run not in classes):
        return None  # the common case: too few brackets to be too deep, no digit run long enough
    text = _utf8(payload)
    if text is None:
        return None
    outside = _outside_strings(text)
    classes = outside.translate(_CLASSES)
    containers = classes.count(b"[")
    if containers > limits.max_containers:
        return ShapeProblem(
            "json_too_large",
            f"the JSON body holds {containers} arrays/objects; the limit is {limits.max_containers} "
            "(KITGATE_MAX_JSON_CONTAINERS); send fewer, larger items (e.g. flat lists of numbers)",
            {"max_containers": limits.max_containers, "containers": containers},
        )
    if containers > limits.max_depth and _deeper_than(classes, limits.max_depth):
        return _too_deep(limits)
    if long_run is not None and long_run in classes and _long_integer(limits.max_digits).search(outside):
        return ShapeProblem(
            "json_number_too_long",
            f"the JSON body holds an integer literal of more than {limits.max_digits} digits, Python's "
            "conversion limit; send it as a string",
            {"max_digits": limits.max_digits},
        )
    return None


def deeper_than(text: str, max_depth: int) -> bool:
    """For stored JSON (always UTF-8 text): does it nest deeper than `max_depth`?"""
    if text.count("[") + text.count("{") <= max_depth:
        return False
    return _deeper_than(_outside_strings(text.encode("utf-8", "surrogatepass")).translate(_CLASSES), max_depth)
