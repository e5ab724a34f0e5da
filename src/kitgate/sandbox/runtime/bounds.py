"""Parsers and cost estimates that bound one C call before it starts.

In-process (``trusted``) a single C call never returns to the interpreter until it is done, so the
step ticks and the deadline cannot stop ``format('x', '\\n>300000000')`` or ``pow(3, e, m)`` with a
million-bit exponent. The only defence is to read the call's *arguments* the way CPython will read
them and refuse before the call. Pattern matching got this wrong before (a regex ``.`` does not match
a newline fill character; ``[^)]*`` does not follow CPython's balanced parentheses in ``%(key)``), so
this module parses instead:

- :func:`parse_format_spec` implements the format-spec mini-language grammar
  ``[[fill]align][sign][z][#][0][width][grouping][.precision][type]`` with *any* fill character;
- :func:`percent_fields` walks printf-style (``%``) directives exactly as CPython's
  ``unicode_format_arg_parse``/``_PyBytes_FormatEx`` do (balanced parentheses in mapping keys, flags,
  ``*`` or digit width and precision, one ``h``/``l``/``L`` modifier, the conversion character);
- ``*_cost`` functions estimate big-integer work from bit lengths (CPython 3.11 multiplies with
  Karatsuba but divides schoolbook, so a modular reduction is quadratic in the modulus).

Everything here is plain functions of values and limits, with no job state, so guards for stdlib
modules added later (``string``, ``operator``, ``decimal``...) can call the same checks.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAX_INT_BITS = 1_000_000  # ~300k decimal digits: far beyond any scene script, far below a CPU hog
MAX_FORMAT_WIDTH = 1_000_000
MAX_SPEC_LENGTH = 64
# Work budgets in "bit operations", calibrated on CPython 3.11 (2 cores, see SECURITY.md): each is
# about half a second of one C call. Linear work (adding or multiplying by a small int) runs at about
# 6e10 bit-steps/s; schoolbook reduction (x mod m, one per step of a modular pow) at about 6.5e11 bit^2/s.
LINEAR_BIT_BUDGET = 30_000_000_000
QUADRATIC_BIT_BUDGET = 300_000_000_000
_WIDE_DIGITS = 7  # a width or precision with more digits than this is over MAX_FORMAT_WIDTH anyway


class LimitExceeded(BaseException):  # noqa: N818 - it is a signal, not an error a script may catch
    """A guard refused work; ``limit`` names which one (timeout, loop_iterations, memory, cpu, output...).
    A ``BaseException``, so ``except Exception`` in a script cannot swallow it."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit
        self.message = message


# --- format-spec mini-language --------------------------------------------------------------------

_ALIGN = frozenset("<>=^")
_SIGN = frozenset("+- ")
_DIGITS = frozenset("0123456789")
_GROUPING = frozenset("_,")


@dataclass(frozen=True)
class FormatSpec:
    """One standard format spec, field by field (``None`` where the spec leaves it out)."""

    fill: str | None
    align: str | None
    sign: str | None
    z: bool
    alternate: bool
    zero: bool
    width: int | None
    grouping: str | None
    precision: int | None
    type: str | None


def _digits(spec: str, i: int) -> tuple[str, int]:
    j = i
    n = len(spec)
    while j < n and spec[j] in _DIGITS:
        j += 1
    return spec[i:j], j


def _number(text: str, what: str) -> int:
    if len(text) > _WIDE_DIGITS or int(text) > MAX_FORMAT_WIDTH:
        raise LimitExceeded("memory", f"format {what} {text[:12]}{'...' if len(text) > 12 else ''} exceeds "
                                      f"{MAX_FORMAT_WIDTH}; pad or round the value in a loop, or write a shorter width")
    return int(text)


def parse_format_spec(spec: str) -> FormatSpec | None:
    """The spec as CPython's standard ``__format__`` parses it, or ``None`` if it is not a standard spec
    (then a type's own ``__format__`` interprets it). The fill is any one character, newline included."""
    n = len(spec)
    i = 0
    fill = align = None
    if n >= 2 and spec[1] in _ALIGN:
        fill, align, i = spec[0], spec[1], 2
    elif n >= 1 and spec[0] in _ALIGN:
        align, i = spec[0], 1
    sign = None
    if i < n and spec[i] in _SIGN:
        sign, i = spec[i], i + 1
    z = i < n and spec[i] == "z"
    i += z
    alternate = i < n and spec[i] == "#"
    i += alternate
    zero = i < n and spec[i] == "0"
    i += zero
    width_text, i = _digits(spec, i)
    grouping = None
    if i < n and spec[i] in _GROUPING:
        grouping, i = spec[i], i + 1
    precision_text = None
    if i < n and spec[i] == ".":
        precision_text, i = _digits(spec, i + 1)
        if not precision_text:
            return None
    if n - i > 1:
        return None
    return FormatSpec(fill, align, sign, z, alternate, zero,
                      _number(width_text, "width") if width_text else None, grouping,
                      _number(precision_text, "precision") if precision_text else None, spec[i] if i < n else None)


def check_format_spec(spec: Any) -> FormatSpec | None:
    """Refuse a spec whose width or precision would make ``format()`` allocate more than
    MAX_FORMAT_WIDTH characters. A non-standard spec (a type's own mini-language) is refused if any
    run of digits in it is that large: its meaning is unknown, so the worst reading counts."""
    if not isinstance(spec, str) or not spec:
        return None
    if len(spec) > MAX_SPEC_LENGTH:
        raise LimitExceeded("memory", f"format spec of {len(spec)} characters is longer than {MAX_SPEC_LENGTH}")
    parsed = parse_format_spec(spec)
    if parsed is None:
        i = 0
        while i < len(spec):
            run, j = _digits(spec, i)
            if run:
                _number(run, "number")
            i = j + 1 if j == i else j
    return parsed


# --- printf-style (%) formatting -----------------------------------------------------------------

_FLAGS = frozenset("-+ #0")
_LENGTH_MODIFIERS = frozenset("hlL")


@dataclass(frozen=True)
class PercentField:
    """One ``%`` directive: mapping key, width and precision (``'*'``, digits or None), conversion."""

    start: int
    key: str | None
    width: str | None
    precision: str | None
    conversion: str


def _balanced_key(text: str, start: int) -> tuple[str | None, int]:
    """``text[start]`` is ``'('``: the key up to the matching ``')'``, as CPython counts them."""
    depth = 1
    i = start + 1
    n = len(text)
    while depth:
        opening = text.find("(", i)
        closing = text.find(")", i)
        if closing < 0:
            return None, n  # CPython raises "incomplete format key"
        if 0 <= opening < closing:
            depth += 1
            i = opening + 1
        else:
            depth -= 1
            i = closing + 1
    return text[start + 1:i - 1], min(i, n)


def _width_field(text: str, i: int) -> tuple[str | None, int]:
    if i < len(text) and text[i] == "*":
        return "*", i + 1
    run, j = _digits(text, i)
    if len(run) > _WIDE_DIGITS:
        _number(run, "width")
    return (run or None), j


def percent_fields(text: str) -> Iterator[PercentField]:
    """Every directive of a printf-style format string, in order; ``%%`` included (conversion ``%``).
    A string that ends inside a directive yields nothing for it (CPython then raises ValueError)."""
    n = len(text)
    i = text.find("%")
    while 0 <= i < n - 1:
        start = i
        i += 1
        key = None
        if text[i] == "(":
            key, i = _balanced_key(text, i)
            if key is None:
                return
        while i < n and text[i] in _FLAGS:
            i += 1
        width, i = _width_field(text, i)
        precision = None
        if i < n and text[i] == ".":
            precision, i = _width_field(text, i + 1)
            precision = precision or "0"
        if i < n and text[i] in _LENGTH_MODIFIERS:
            i += 1
        if i >= n:
            return
        yield PercentField(start, key, width, precision, text[i])
        i = text.find("%", i + 1)


_TEXT = (str, bytes, bytearray)
_GROWTH = {"s": 1, "b": 1, "r": 4, "a": 10}  # output characters per character of a text argument


def _star(value: Any) -> int:
    if type(value) not in (int, bool):
        return 0  # CPython raises "* wants int"
    if abs(value) > MAX_FORMAT_WIDTH:
        raise LimitExceeded("memory", f"'*' width {value} in a %-format exceeds {MAX_FORMAT_WIDTH}")
    return abs(value)


class _Args:
    """The argument stream of one ``%`` operation, consumed the way CPython consumes it."""

    def __init__(self, args: Any) -> None:
        self.args = args
        self.items = args if type(args) is tuple else (args,)
        self.next = 0

    def take(self) -> Any:
        if self.next < len(self.items):
            self.next += 1
            return self.items[self.next - 1]
        return None

    def lookup(self, key: str) -> Any:
        if type(self.args) is dict:
            return self.args.get(key)
        raise TypeError("%-formatting with named fields needs a plain dict on the right of '%' here; "
                        "build one with dict(...)")


def _argument_size(value: Any, conversion: str) -> int:
    """Characters one argument adds (text grows by its escapes; numbers by their digits, octal worst)."""
    if isinstance(value, _TEXT):
        return len(value) * _GROWTH.get(conversion, 1)
    if type(value) in (int, bool):
        return abs(value).bit_length() // 3 + 3
    if type(value) is float:
        return 330  # '%f' % 1e308
    return 0  # str()/repr() of other objects: bounded by the object, like str(x) itself


def percent_output_size(fmt: str | bytes | bytearray, args: Any) -> int:
    """Upper estimate of the characters ``fmt % args`` produces; raises LimitExceeded for a width,
    precision or ``*`` value over MAX_FORMAT_WIDTH. Arguments are only read, never converted."""
    text = fmt if isinstance(fmt, str) else bytes(fmt).decode("latin-1")
    if "%" not in text:
        return len(text)
    stream = _Args(args)
    total = len(text)
    for field in percent_fields(text):
        if field.conversion == "%" and field.key is None:
            continue
        width = _star(stream.take()) if field.width == "*" else int(field.width or 0)
        precision = _star(stream.take()) if field.precision == "*" else int(field.precision or 0)
        value = stream.lookup(field.key) if field.key is not None else stream.take()
        total += max(width, precision + _argument_size(value, field.conversion))
    return total


# --- big-integer work ------------------------------------------------------------------------------

def _bits(x: Any) -> int:
    return abs(x).bit_length() if type(x) in (int, bool) else 0


def power_bits(base: int, exponent: int) -> float:
    """Bits of ``base ** exponent`` for a positive exponent."""
    a = abs(base)
    if a <= 1:
        return 1
    return math.log2(a) * exponent if a.bit_length() < 1000 else (a.bit_length() - 1) * exponent


def modpow_cost(exponent: int, modulus: int) -> int:
    """Bit-operations of ``pow(b, e, m)``: one schoolbook reduction (quadratic in m) per exponent bit."""
    return max(_bits(exponent), 1) * max(_bits(modulus), 1) ** 2


def check_modpow(exponent: Any, modulus: Any) -> None:
    if type(modulus) not in (int, bool) or type(exponent) not in (int, bool):
        return
    if _bits(modulus) > MAX_INT_BITS:
        raise LimitExceeded("memory", f"modulus of {_bits(modulus)} bits exceeds {MAX_INT_BITS}")
    cost = modpow_cost(exponent, modulus)
    if cost > QUADRATIC_BIT_BUDGET:
        raise LimitExceeded(
            "cpu", f"pow(base, exponent, modulus) with a {_bits(exponent)}-bit exponent and a {_bits(modulus)}-bit "
                   f"modulus is about {cost:.1e} bit operations in one uninterruptible call (limit "
                   f"{QUADRATIC_BIT_BUDGET:.0e}); use a smaller modulus or exponent")


def int_list_stats(items: Any) -> tuple[int, int, int]:
    """(count, largest bit length, sum of bit lengths) of the ints in a list/tuple; C-speed for the
    common all-numbers case."""
    kinds = set(map(type, items))
    ints = items if kinds <= {int, bool} else [x for x in items if type(x) in (int, bool)]
    if not ints:
        return 0, 0, 0
    lengths = list(map(int.bit_length, map(abs, ints)))
    return len(lengths), max(lengths), sum(lengths)


def check_product(items: Any) -> None:
    """``math.prod``: the result has about the sum of the factors' bits; each step multiplies the
    running product (up to that size) by the next factor."""
    count, _largest, total = int_list_stats(items)
    if total > MAX_INT_BITS:
        raise LimitExceeded("memory", f"math.prod of {count} integers would have about {total} bits "
                                      f"(limit {MAX_INT_BITS})")
    if count * total > 2 * LINEAR_BIT_BUDGET:
        raise LimitExceeded("cpu", f"math.prod of {count} integers totalling {total} bits is about "
                                   f"{count * total // 2:.1e} bit operations in one call; multiply in a loop")


def check_int_sum(items: Any, start: Any = 0) -> None:
    """``sum`` of ints: every addition rewrites the running total (as large as the largest item)."""
    count, largest, _total = int_list_stats(items)
    largest = max(largest, _bits(start))
    if count * largest > LINEAR_BIT_BUDGET:
        raise LimitExceeded("cpu", f"sum of {count} integers of up to {largest} bits is about "
                                   f"{count * largest:.1e} bit operations in one call; add in a loop")


def check_gcd_lcm(name: str, args: tuple[Any, ...]) -> None:
    """gcd/lcm fold over their arguments; lcm's result has up to the sum of their bits."""
    count, largest, total = int_list_stats(args)
    if name == "lcm" and total > MAX_INT_BITS:
        raise LimitExceeded("memory", f"math.lcm of {count} integers could have {total} bits (limit {MAX_INT_BITS})")
    running = total if name == "lcm" else largest
    if count * largest * running > QUADRATIC_BIT_BUDGET:
        raise LimitExceeded("cpu", f"math.{name} of {count} integers of up to {largest} bits is too much work for "
                                   "one uninterruptible call; fold over smaller groups in a loop")


def check_round(number: Any, ndigits: Any) -> None:
    """``round(int, -k)`` computes ``10**k`` first."""
    if type(number) in (int, bool) and type(ndigits) in (int, bool) and ndigits < 0:
        bits = -ndigits * 3.33
        if bits > MAX_INT_BITS:
            raise LimitExceeded("memory", f"round(n, {ndigits}) computes 10**{-ndigits}, over {MAX_INT_BITS} bits; "
                                          "an int rounded to more digits than it has is 0")
