"""Allocation, width and step guards plus the guarded builtins handed to scripts.

A single C call never returns to the interpreter, so the only in-process defence against
``'A' * 10**10`` or ``10**(10**9)`` is to refuse the call *before* it starts. These guards estimate
the size of the result from the operands and raise :class:`LimitExceeded` (a ``BaseException``
that ``except Exception`` in a script cannot swallow). Isolated mode still has rlimits behind them.
"""

from __future__ import annotations

import builtins as _py
import itertools
import math
import operator
import string
import time
from collections.abc import Callable, Iterable
from fractions import Fraction as _Fraction
from typing import Any

from kitgate.sandbox.runtime import bounds
from kitgate.sandbox.runtime.bounds import (
    MAX_INT_BITS,
    LimitExceeded,
    check_format_spec,
    check_round,
    power_bits,
)

MAX_FACTORIAL = 20_000
MAX_COMB = 100_000
_BIG_BITS = 4096  # below this, integer work is too small to be worth a deadline check


class SandboxDenied(AttributeError):
    """Raised for names a policy does not allow; an AttributeError so `hasattr`-style code degrades."""


_SEQ_TYPES = (str, bytes, bytearray, list, tuple)
_SMALL_NUM = frozenset({int, float, bool})
_INTLIKE = (int, bool)


class Allocation:
    """Per-job allocation guards. ``max_items`` bounds every sequence a single operation creates."""

    __slots__ = ("max_items", "deadline")

    def __init__(self, memory_mb: int, deadline: float = math.inf) -> None:
        self.max_items = max(1_000_000, memory_mb * 2**20 // 16)
        self.deadline = deadline  # C iterators (map, sorted) can call a guard many times with no tick between

    def check_deadline(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded("timeout", "the script exceeded its time limit")

    def _too_big(self, what: str, n: int) -> LimitExceeded:
        return LimitExceeded("memory", f"{what} would create {n} items (limit {self.max_items})")

    def check_items(self, what: str, n: int) -> None:
        if n > self.max_items:
            raise self._too_big(what, n)

    def mul(self, a: Any, b: Any) -> Any:
        ta, tb = type(a), type(b)
        if ta is float or tb is float:
            return a * b
        if ta is int and tb is int:
            if a.bit_length() + b.bit_length() > MAX_INT_BITS:
                raise LimitExceeded("memory", f"integer product exceeds {MAX_INT_BITS} bits")
            return a * b
        if isinstance(a, _SEQ_TYPES) and (n := _count(b)) is not None:
            self.check_items("sequence repetition", len(a) * max(n, 0))
            return a * n  # the checked count, not a second __index__ call
        if isinstance(b, _SEQ_TYPES) and (n := _count(a)) is not None:
            self.check_items("sequence repetition", len(b) * max(n, 0))
            return n * b
        if ta is _Fraction or tb is _Fraction:
            check_fraction_op("product", a, b)
        return a * b

    def add(self, a: Any, b: Any) -> Any:
        if isinstance(a, _SEQ_TYPES) and isinstance(b, _SEQ_TYPES):
            self.check_items("concatenation", len(a) + len(b))
        elif type(a) is _Fraction or type(b) is _Fraction:
            check_fraction_op("sum", a, b)
        return a + b

    def pow(self, a: Any, b: Any, mod: Any = None) -> Any:
        """``**`` and ``pow()``: the result size bounds a plain power; with a modulus the work is one
        quadratic reduction per exponent bit, bounded by bits(exponent) * bits(modulus)**2."""
        if mod is not None:
            bounds.check_modpow(b, mod)
            if type(b) in _INTLIKE and abs(b).bit_length() > _BIG_BITS // 64:
                self.check_deadline()
            return _py.pow(a, b, mod)
        if type(a) is _Fraction or type(b) is _Fraction:
            check_fraction_power(a, b)
        if type(a) in _INTLIKE and type(b) in _INTLIKE and b > 0:
            bits = power_bits(a, b)
            if bits > MAX_INT_BITS:
                raise LimitExceeded("memory", f"integer power exceeds {MAX_INT_BITS} bits")
            if bits > _BIG_BITS:
                self.check_deadline()
        return a**b

    def lshift(self, a: Any, b: Any) -> Any:
        if type(a) in _INTLIKE and type(b) in _INTLIKE and a and b > 0 and abs(a).bit_length() + b > MAX_INT_BITS:
            raise LimitExceeded("memory", f"shifted integer exceeds {MAX_INT_BITS} bits")
        return a << b

    def mod(self, a: Any, b: Any) -> Any:
        ta = type(a)
        if ta is int or ta is float:
            return a % b
        if isinstance(a, (str, bytes, bytearray)):
            self.check_items("%-formatting", bounds.percent_output_size(a, b))
        return a % b

    def inplace(self, op: str, x: Any, y: Any) -> Any:
        if op == "+=" and type(x) in _SMALL_NUM and type(y) in _SMALL_NUM:
            return x + y  # the common counter/accumulator case, nothing to estimate
        fn = self._inplace.get(op)
        if fn is None:
            raise SyntaxError(f"unsupported augmented assignment {op}")
        return fn(self, x, y)

    _inplace: dict[str, Callable[[Allocation, Any, Any], Any]] = {}


def _fraction_bits(x: Any) -> int:
    """Bits of the larger of a Fraction's numerator and denominator (an int counts as n/1)."""
    if type(x) is _Fraction:
        return max(abs(x.numerator).bit_length(), x.denominator.bit_length())
    return abs(x).bit_length() if type(x) in _INTLIKE else 0


def check_fraction_op(what: str, a: Any, b: Any) -> None:
    """Fraction `*` and `+` cross-multiply numerators and denominators in C: the result has about the sum
    of the operands' bits (fractions are isolated-only; this keeps a doubling loop a clean limit)."""
    if _fraction_bits(a) + _fraction_bits(b) > MAX_INT_BITS:
        raise LimitExceeded("memory", f"Fraction {what} would exceed {MAX_INT_BITS} bits")


def check_fraction_power(a: Any, b: Any) -> None:
    """`Fraction ** n` and `n ** Fraction(k)` raise integers to an integer power inside fractions.py."""
    exponent = b.numerator if type(b) is _Fraction and b.denominator == 1 else b
    if type(exponent) not in _INTLIKE or type(a) not in (_Fraction, int, bool):
        return  # a fractional exponent or a float operand gives a float
    base = max(abs(a.numerator), a.denominator) if type(a) is _Fraction else a
    bits = power_bits(base, abs(exponent))
    if bits > MAX_INT_BITS:
        raise LimitExceeded("memory", f"Fraction power exceeds {MAX_INT_BITS} bits")


# Exact types whose len() is computed in C (never by script code) and whose iteration does not grow.
_SIZED = frozenset({list, tuple, str, bytes, bytearray, dict, set, frozenset, range})


def bounded_items(alloc: Allocation, what: str, have: int, items: Any, into: type = list) -> Any:
    """`items` made safe to hand to a growing C call (`extend`, `+=`, slice assignment).

    A sized builtin is checked by its length. Anything else (map, filter, zip, an iterator over the
    list being extended) is consumed here with a hard cap first: `l.extend(map(abs, l))` otherwise grows
    `l` while iterating it, forever, in one C call.
    """
    if type(items) in _SIZED:
        alloc.check_items(what, have + len(items))
        return items
    room = max(alloc.max_items - have, 0)
    buf = into(itertools.islice(iter(items), room + 1))  # bytearray for a bytearray: 1 byte per item
    if len(buf) > room:
        raise LimitExceeded("memory", f"{what} would create more than {alloc.max_items} items")
    return buf


def _iadd(g: Allocation, x: Any, y: Any) -> Any:
    if type(x) is list:
        y = bounded_items(g, "concatenation", len(x), y)  # `l += map(f, l)` would never stop growing
    elif isinstance(x, _SEQ_TYPES) and hasattr(y, "__len__"):
        g.check_items("concatenation", len(x) + len(y))
    x += y
    return x


def _count(x: Any) -> int | None:
    """A repetition count: an int, or an int-like number such as numpy's int64 (its `__index__` is what
    `seq * x` uses; isinstance(x, int) is false for it)."""
    if isinstance(x, _INTLIKE):
        return int(x)
    if not isinstance(x, (float, complex, *_SEQ_TYPES)) and hasattr(type(x), "__index__"):
        return operator.index(x)
    return None


def _imul(g: Allocation, x: Any, y: Any) -> Any:
    if isinstance(x, list):
        g.mul(x[:1], y)  # size check without building the product
        n = _count(y)
        if n is not None:
            g.check_items("sequence repetition", len(x) * max(n, 0))
            y = n
        x *= y
        return x
    return g.mul(x, y)


Allocation._inplace = {
    "+=": _iadd,
    "-=": lambda g, x, y: operator.isub(x, y),
    "*=": _imul,
    "/=": lambda g, x, y: operator.itruediv(x, y),
    "//=": lambda g, x, y: operator.ifloordiv(x, y),
    "%=": lambda g, x, y: g.mod(x, y),
    "**=": lambda g, x, y: g.pow(x, y),
    "<<=": lambda g, x, y: g.lshift(x, y),
    ">>=": lambda g, x, y: operator.irshift(x, y),
    "|=": lambda g, x, y: operator.ior(x, y),
    "&=": lambda g, x, y: operator.iand(x, y),
    "^=": lambda g, x, y: operator.ixor(x, y),
    "@=": lambda g, x, y: operator.imatmul(x, y),
}

def check_percent_format(fmt: str | bytes | bytearray, args: Any = (), max_items: int = 2**62) -> None:
    """Refuse printf-style formatting whose widths, precisions or ``*`` values exceed MAX_FORMAT_WIDTH,
    or whose estimated output exceeds ``max_items`` characters (bounds.percent_output_size)."""
    size = bounds.percent_output_size(fmt, args)
    if size > max_items:
        raise LimitExceeded("memory", f"%-formatting would create {size} items (limit {max_items})")


def guarded_format(value: Any, spec: str = "") -> str:
    check_format_spec(spec)
    return format(value, spec)


class SafeFormatter(string.Formatter):
    """``str.format`` whose field lookups go through the sandbox's own getattr/getitem guards."""

    def __init__(self, getattr_: Callable[[Any, str], Any], getitem_: Callable[[Any, Any], Any],
                 alloc: Allocation | None = None) -> None:
        self._ga = getattr_
        self._gi = getitem_
        self._alloc = alloc
        self._produced = 0

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        self._produced = len(format_string)
        return super().vformat(format_string, args, kwargs)

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> tuple[Any, Any]:
        first, rest = _formatter_field_name_split(field_name)
        obj = self.get_value(first, args, kwargs)
        for is_attr, key in rest:
            obj = self._ga(obj, key) if is_attr else self._gi(obj, key)
        return obj, first

    def format_field(self, value: Any, format_spec: str) -> Any:
        check_format_spec(format_spec)
        text = format(value, format_spec)
        if self._alloc is not None:
            # '{0}{0}{0}...'.format(big) repeats one large value: cap the total, not each field
            self._produced += len(text)
            self._alloc.check_items("str.format()", self._produced)
        return text


def _formatter_field_name_split(name: str) -> tuple[Any, Any]:
    import _string  # stdlib helper used by string.Formatter itself

    return _string.formatter_field_name_split(name)


# --- str/bytes methods with a size argument ---------------------------------------------------


def _width_method(alloc: Allocation, obj: Any, name: str) -> Callable[..., Any]:
    method = getattr(obj, name)

    def guarded(width: Any, *rest: Any) -> Any:
        if isinstance(width, int):
            alloc.check_items(f"{name}()", width)
        return method(width, *rest)

    return guarded


def _expandtabs(alloc: Allocation, obj: Any, name: str) -> Callable[..., Any]:
    def guarded(tabsize: int = 8) -> Any:
        if isinstance(tabsize, int):
            alloc.check_items("expandtabs()", len(obj) * max(tabsize, 1))
        return obj.expandtabs(tabsize)

    return guarded


def _replace(alloc: Allocation, obj: Any, name: str) -> Callable[..., Any]:
    def guarded(old: Any, new: Any, count: int = -1) -> Any:
        if isinstance(old, type(obj)) and isinstance(new, type(obj)) and len(new) > len(old):
            n = obj.count(old) if old else len(obj) + 1
            if count >= 0:
                n = min(n, count)
            alloc.check_items("replace()", len(obj) + n * (len(new) - len(old)))
        return obj.replace(old, new, count)

    return guarded


def _join(alloc: Allocation, obj: Any, name: str) -> Callable[..., Any]:
    def guarded(iterable: Any) -> Any:
        items = list(iterable)
        total = len(obj) * max(len(items) - 1, 0)
        for item in items:
            total += len(item) if isinstance(item, (str, bytes, bytearray)) else 0
        alloc.check_items("join()", total)  # a list of references to one big string multiplies it
        return obj.join(items)

    return guarded


_CODECS = frozenset({"utf-8", "ascii", "latin-1", "iso8859-1", "utf-16", "utf-16-le", "utf-16-be", "utf-32",
                     "utf-32-le", "utf-32-be", "cp1252"})


def check_codec(encoding: Any) -> None:
    """C codecs only: others (punycode, idna, the *_codec modules) run pure-Python stdlib code whose cost
    grows super-linearly and is never interrupted by the sandbox's ticks."""
    import codecs

    try:
        canonical = codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise SandboxDenied(f"unknown encoding {encoding!r}") from None
    if canonical not in _CODECS:
        raise SandboxDenied(f"encoding {encoding!r} is not available; use one of utf-8, ascii, latin-1, utf-16")


def _codec(alloc: Allocation, obj: Any, name: str) -> Callable[..., Any]:
    """encode/decode with C codecs only (see check_codec)."""
    method = getattr(obj, name)

    def guarded(encoding: str = "utf-8", errors: str = "strict") -> Any:
        check_codec(encoding)
        return method(encoding, errors)

    return guarded


def _extend(alloc: Allocation, obj: Any, name: str) -> Callable[..., Any]:
    """`l.extend(l)` in a loop doubles the list each step in one C call, `l.extend(map(f, l))` never
    stops: check the resulting size, consuming non-sized iterables under the cap first."""
    method = getattr(obj, name)

    into = bytearray if type(obj) is bytearray else list

    def guarded(items: Any) -> Any:
        return method(bounded_items(alloc, f"{name}()", len(obj), items, into))

    return guarded


# list/bytearray methods that can grow a container by its own size in one call
CONTAINER_GUARDS: dict[str, Callable[[Allocation, Any, str], Callable[..., Any]]] = {"extend": _extend}


def _to_bytes(alloc: Allocation, obj: Any, name: str) -> Callable[..., Any]:
    """`(1).to_bytes(3 * 10**9)` zero-fills gigabytes in one call: the length is a sized argument."""
    method = getattr(obj, name)

    def guarded(*args: Any, **kwargs: Any) -> Any:
        length = args[0] if args else kwargs.get("length", 1)
        if isinstance(length, int):
            alloc.check_items("int.to_bytes()", length)
        return method(*args, **kwargs)

    return guarded


INT_GUARDS: dict[str, Callable[[Allocation, Any, str], Callable[..., Any]]] = {"to_bytes": _to_bytes}

STR_GUARDS: dict[str, Callable[[Allocation, Any, str], Callable[..., Any]]] = {
    "encode": _codec,
    "decode": _codec,
    "join": _join,
    "ljust": _width_method,
    "rjust": _width_method,
    "center": _width_method,
    "zfill": _width_method,
    "expandtabs": _expandtabs,
    "replace": _replace,
}


# --- builtins ----------------------------------------------------------------------------------


class GuardedBuiltins:
    """Builds the builtins dict for one job from the policy's list of names."""

    PLAIN: dict[str, Any] = {
        name: getattr(_py, name)
        for name in [
            "abs",
            "all",
            "any",
            "bool",
            "callable",
            "chr",
            "complex",
            "dict",
            "divmod",
            "enumerate",
            "filter",
            "float",
            "frozenset",
            "hash",
            "hex",
            "int",
            "len",
            "list",
            "map",
            "max",
            "min",
            "next",
            "oct",
            "ord",
            "repr",
            "reversed",
            "set",
            "slice",
            "sorted",
            "tuple",
            "zip",
            "bin",
            "ArithmeticError",
            "AssertionError",
            "AttributeError",
            "Exception",
            "IndexError",
            "KeyError",
            "LookupError",
            "NameError",
            "NotImplementedError",
            "OverflowError",
            "RecursionError",
            "RuntimeError",
            "StopIteration",
            "TypeError",
            "ValueError",
            "ZeroDivisionError",
            "ArithmeticError",
            "UnicodeError",
            "FloatingPointError",
            "MemoryError",
        ]
    }
    PLAIN["round"] = None  # replaced by guarded_round below (round(n, -k) computes 10**k first)
    PLAIN.update({"None": None, "True": True, "False": False, "Ellipsis": Ellipsis, "NotImplemented": NotImplemented})
    SPECIAL = frozenset(
        {"range", "pow", "format", "isinstance", "issubclass", "bytes", "bytearray", "iter", "print", "property",
         "staticmethod", "classmethod", "str", "sum"}
    )


def guarded_round(number: Any, ndigits: Any = None) -> Any:
    """round(n, -k) on an int computes 10**k in one C call: bound k like an integer power."""
    if ndigits is None:
        return round(number)
    check_round(number, ndigits)
    if type(number) is _Fraction and type(ndigits) in _INTLIKE and abs(ndigits) * 10 // 3 > MAX_INT_BITS:
        raise LimitExceeded("memory", f"round(Fraction, {ndigits}) computes 10**{abs(ndigits)}, over "
                                      f"{MAX_INT_BITS} bits")
    return round(number, ndigits)


GuardedBuiltins.PLAIN["round"] = guarded_round

KNOWN_BUILTINS = frozenset(GuardedBuiltins.PLAIN) | GuardedBuiltins.SPECIAL


def make_range(max_len: int) -> Callable[..., range]:
    def guarded_range(*args: int) -> range:
        r = range(*args)
        if len(r) > max_len:
            raise LimitExceeded(
                "loop_iterations", f"range of {len(r)} items exceeds the loop_iterations limit {max_len}"
            )
        return r

    return guarded_range


def make_sized(alloc: Allocation, ctor: type) -> Callable[..., Any]:
    """bytes(n)/bytearray(n) are sized; bytes(s, encoding) runs a codec (same allow-list as str.encode)."""
    def guarded(*args: Any, **kw: Any) -> Any:
        if args and not isinstance(args[0], (str, bytes, bytearray)) and (n := _count(args[0])) is not None:
            alloc.check_items(f"{ctor.__name__}()", n)
            args = (n, *args[1:])  # numpy integers size like ints
        if len(args) > 1 or "encoding" in kw:
            check_codec(args[1] if len(args) > 1 else kw["encoding"])
        return ctor(*args, **kw)

    return guarded


def guarded_str(*args: Any, **kw: Any) -> str:
    """str(b, encoding) decodes: only the C codecs (see check_codec)."""
    if len(args) > 1 or "encoding" in kw:
        check_codec(args[1] if len(args) > 1 else kw["encoding"])
    return str(*args, **kw)


def _metered_ints(alloc: Allocation, iterable: Any, start: Any) -> Iterable[Any]:
    """Items of a non-sized iterable, charging each big-int addition against the linear budget."""
    largest = abs(start).bit_length() if type(start) in _INTLIKE else 0
    spent = 0
    for item in iterable:
        if type(item) in _INTLIKE:
            largest = max(largest, abs(item).bit_length())
            if largest > _BIG_BITS:
                spent += largest
                if spent > bounds.LINEAR_BIT_BUDGET:
                    raise LimitExceeded("cpu", "sum of big integers is too much work for one call; add in a loop")
                alloc.check_deadline()
        yield item


def make_sum(alloc: Allocation) -> Callable[..., Any]:
    """`sum([big_list] * 1000, [])` concatenates in C: check the total when the start is a sequence;
    `sum([big_int] * 10**6)` rewrites a big total a million times: bound sum(len) * bits for ints."""
    def guarded_sum(iterable: Any, /, start: Any = 0) -> Any:
        if type(start) in _SMALL_NUM:
            if type(iterable) in (list, tuple):
                bounds.check_int_sum(iterable, start)
                return sum(iterable, start)
            return sum(_metered_ints(alloc, iterable, start), start)
        if type(start) in (list, tuple):
            items = bounded_items(alloc, "sum()", 0, iterable)
            total = len(start)
            for item in items:
                total += len(item) if type(item) in _SIZED else 0
                if total > alloc.max_items:
                    raise alloc._too_big("sum()", total)
            return sum(items, start)
        return sum(iterable, start)

    return guarded_sum


def guarded_iter(obj: Iterable[Any], *sentinel: Any) -> Any:
    """One-argument iter only: `iter(callable, sentinel)` makes endless C-level iterators."""
    if sentinel:
        raise SandboxDenied("iter(callable, sentinel) is not available; use a while loop that calls the function")
    return iter(obj)


def make_math_guards(alloc: Allocation) -> dict[str, Callable[..., Any]]:
    def factorial(n: int) -> int:
        if isinstance(n, int) and n > MAX_FACTORIAL:
            raise LimitExceeded("memory", f"factorial({n}) exceeds the limit {MAX_FACTORIAL}")
        return math.factorial(n)

    def comb(n: int, k: int) -> int:
        if isinstance(n, int) and n > MAX_COMB:
            raise LimitExceeded("memory", f"comb/perm with n={n} exceeds the limit {MAX_COMB}")
        return math.comb(n, k)

    def perm(n: int, k: int | None = None) -> int:
        if isinstance(n, int) and n > MAX_COMB:
            raise LimitExceeded("memory", f"comb/perm with n={n} exceeds the limit {MAX_COMB}")
        return math.perm(n, k)

    def mpow(x: float, y: float) -> float:
        return math.pow(x, y)

    def prod(iterable: Any, /, *, start: Any = 1) -> Any:
        items = bounded_items(alloc, "math.prod()", 0, iterable) if type(iterable) not in (list, tuple) else iterable
        bounds.check_product((*items, start) if type(start) in _INTLIKE else items)
        alloc.check_deadline()
        return math.prod(items, start=start)

    def gcd(*integers: Any) -> int:
        bounds.check_gcd_lcm("gcd", integers)
        return math.gcd(*integers)

    def lcm(*integers: Any) -> int:
        bounds.check_gcd_lcm("lcm", integers)
        return math.lcm(*integers)

    return {"factorial": factorial, "comb": comb, "perm": perm, "pow": mpow, "prod": prod, "gcd": gcd, "lcm": lcm}
