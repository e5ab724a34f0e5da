"""The vetted standard-library surface: guarded stand-ins for the module names a policy lists.

Why this exists: agents and TDs write `json.dumps`, `itertools.product`, `dataclasses`, `copy.deepcopy`.
The policy lists which module names are reachable (the same allow-list machinery as pxr); this module
replaces the few reachable names whose C or stdlib code could run unbounded, allocate without limit,
call back into hooks that reach objects, or build classes the runtime does not know about:

- infinite or combinatorial iterators (`itertools.count/cycle/repeat/product/...`) are wrapped in an
  iterator that charges the job's step budget, so even `sum(itertools.count())` (one C call in plain
  Python) stops at the loop limit and the deadline;
- `json.dumps` encodes chunk by chunk under the job's allocation cap; `json.loads` takes no hooks
  (`object_hook`, `parse_float`, `cls`... would run callables on every decoded value);
- `copy.copy/deepcopy` and `dataclasses.asdict/astuple` copy plain data, script objects and Gf/Vt
  values themselves: the stdlib versions follow `__reduce_ex__`/`__deepcopy__`, which rebuild host
  objects (a sandbox helper holding the job context, a pxr handle) bypassing their constructors;
- `dataclasses.dataclass`, `collections.namedtuple` and `typing.NamedTuple` register the classes they
  return as the script's own (their attributes are then checked like any script class);
- sized arguments (`re.sub` output, `textwrap.indent`, `string.Template.substitute`, `random.choices`,
  `getrandbits`, `statistics.quantiles(n=)`, `str.translate`'s table) are checked before the call;
- `operator` is the function form of the guarded operators: `mul`/`add`/`pow`/`lshift`/`mod` are the same
  guards as `*`/`+`/`**`/`<<`/`%`, `attrgetter`/`methodcaller`/`itemgetter` read through the same guards as
  `.name` and `[key]` (the real ones would call the unguarded getattr and getitem);
- `decimal`/`fractions` (isolated policies only): constructors refuse exponents and digit counts whose
  integer or fixed-point form would be huge, and Decimal arithmetic runs in a per-job context with a
  bounded exponent range, so no Decimal or Fraction the script holds converts to a huge integer or text.
Anything not listed by the policy (`json.JSONDecoder`, `string.Formatter`, `typing.get_type_hints`,
`copy.copyreg`, `functools.singledispatch`...) stays unreachable; see SECURITY.md for the table.
"""

from __future__ import annotations

import collections
import dataclasses
import decimal
import fractions
import itertools
import json
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kitgate.sandbox.runtime.guards import LimitExceeded, SandboxDenied

if TYPE_CHECKING:
    from kitgate.sandbox.runtime.hooks import JobContext

MAX_COMBINATORIC_WIDTH = 10_000  # product(repeat=)/permutations(r=): tuples of this many items at most
MAX_TEE = 64
MAX_FIELDS = 256
MAX_TEXT_OPTION = 1_000  # indent/prefix/placeholder strings in textwrap
MAX_QUANTILES = 10_000
# json.dumps output: the job's output and result caps are 64 KiB by default, a layer attribute is the only
# sink for more; 8 Mi characters keeps the pure-Python encoder's worst case around a second
MAX_JSON_CHARS = 8 * 2**20
CHARGE_EVERY = 256
# decimal/fractions: 10**9999 is about 33,000 bits and 'f'-formatting 10,000 characters; a scene's unit
# arithmetic needs a few dozen digits. The digit cap matches int()'s default int_max_str_digits.
MAX_DECIMAL_EXP = 9_999
MAX_DECIMAL_DIGITS = 4_300

_MISSING = object()


class TickingIter:
    """An iterator that charges the job's step budget as C code consumes it."""

    __slots__ = ("_kg_it", "_kg_charge", "_kg_n")
    _kg_public: frozenset[str] = frozenset()

    def __init__(self, it: Any, charge: Callable[[int], None]) -> None:
        self._kg_it = iter(it)
        self._kg_charge = charge
        self._kg_n = 0

    def __iter__(self) -> TickingIter:
        return self

    def __next__(self) -> Any:
        n = self._kg_n + 1
        if n >= CHARGE_EVERY:
            self._kg_charge(n)
            n = 0
        self._kg_n = n
        return next(self._kg_it)

    def __repr__(self) -> str:
        return "<iterator (sandboxed)>"


class _Chain:
    """`itertools.chain` and `itertools.chain.from_iterable`, both ticking."""

    __slots__ = ("_kg_tick",)
    _kg_public = frozenset({"from_iterable"})
    __name__ = "chain"

    def __init__(self, tick: Callable[[Any], TickingIter]) -> None:
        self._kg_tick = tick

    def __call__(self, *iterables: Any) -> TickingIter:
        tick = self._kg_tick
        return tick(itertools.chain(*[tick(i) for i in iterables]))

    def from_iterable(self, iterables: Any) -> TickingIter:
        tick = self._kg_tick
        return tick(itertools.chain.from_iterable(tick(i) for i in tick(iterables)))


# --- itertools ---------------------------------------------------------------------------------------

def _itertools(ctx: JobContext, name: str, real: Any) -> Any:
    charge = ctx.charge

    def tick(it: Any) -> TickingIter:
        return TickingIter(it, charge)

    def width(n: Any, what: str) -> None:
        if isinstance(n, int) and n > MAX_COMBINATORIC_WIDTH:
            raise LimitExceeded("memory", f"itertools.{what} with width {n} (limit {MAX_COMBINATORIC_WIDTH})")

    if name == "product":
        def product(*iterables: Any, repeat: int = 1) -> TickingIter:
            width(len(iterables) * repeat if isinstance(repeat, int) else 0, "product")
            return tick(itertools.product(*[tick(i) for i in iterables], repeat=repeat))
        return product
    if name in ("permutations", "combinations", "combinations_with_replacement"):
        def combinatoric(iterable: Any, r: Any = None) -> TickingIter:
            width(r, name)
            pool = tick(iterable)
            return tick(real(pool) if r is None and name == "permutations" else real(pool, r))
        return combinatoric
    if name == "tee":
        def tee(iterable: Any, n: int = 2) -> tuple[TickingIter, ...]:
            if not isinstance(n, int) or n > MAX_TEE:
                raise LimitExceeded("memory", f"itertools.tee with n={n} (limit {MAX_TEE})")
            return tuple(tick(t) for t in itertools.tee(tick(iterable), n))
        return tee
    if name == "chain":
        return _Chain(tick)
    if name == "groupby":
        return lambda iterable, key=None: tick(itertools.groupby(tick(iterable), key))
    if callable(real):
        def wrapped(*args: Any, **kwargs: Any) -> TickingIter:
            return tick(real(*args, **kwargs))
        wrapped.__name__ = name
        return wrapped
    return real


# --- json --------------------------------------------------------------------------------------------

_DUMPS_OPTIONS = frozenset({"indent", "sort_keys", "separators", "ensure_ascii", "allow_nan", "skipkeys", "default"})


def _json_dumps(ctx: JobContext) -> Callable[..., str]:
    def dumps(obj: Any, **options: Any) -> str:
        unknown = set(options) - _DUMPS_OPTIONS
        if unknown:
            raise SandboxDenied(f"json.dumps option(s) {', '.join(sorted(unknown))} are not available "
                                f"(allowed: {', '.join(sorted(_DUMPS_OPTIONS))})")
        indent = options.get("indent")
        if isinstance(indent, int) and indent > 64 or isinstance(indent, str) and len(indent) > 64:
            raise LimitExceeded("memory", "json.dumps indent larger than 64")
        seps = options.get("separators")
        if seps is not None and (not isinstance(seps, (tuple, list)) or any(
                not isinstance(x, str) or len(x) > 16 for x in seps)):
            raise SandboxDenied("json.dumps separators must be two short strings, e.g. (',', ':')")
        # the pure-Python encoder yields small chunks: count them against the job's allocation cap
        encoder = json.JSONEncoder(**options)
        cap = min(ctx.alloc.max_items, MAX_JSON_CHARS)
        total = 0
        parts: list[str] = []
        for i, chunk in enumerate(encoder.iterencode(obj)):
            total += len(chunk)
            if total > cap:
                raise LimitExceeded("memory", f"json.dumps output exceeds {cap} characters")
            if i % 1024 == 1023:
                ctx.charge(1024)
            parts.append(chunk)
        return "".join(parts)

    return dumps


def _json_loads(ctx: JobContext) -> Callable[..., Any]:
    def loads(s: Any, **hooks: Any) -> Any:
        if hooks:
            raise SandboxDenied(f"json.loads hooks ({', '.join(sorted(hooks))}) are not available; "
                                "decode plainly, then convert: `data = json.loads(text)`")
        if not isinstance(s, (str, bytes, bytearray)):
            raise TypeError("json.loads expects str or bytes")
        return json.loads(s)

    return loads


# --- copy and dataclasses ---------------------------------------------------------------------------

_ATOMS = (type(None), bool, int, float, complex, str, bytes, range, type(Ellipsis))


class _Copier:
    """copy/deepcopy of plain data, script objects and pxr values, without the pickle protocol."""

    def __init__(self, ctx: JobContext, deep: bool) -> None:
        self.ctx = ctx
        self.deep = deep
        self.memo: dict[int, Any] = {}
        self.count = 0

    def item(self, x: Any) -> Any:
        return self.copy(x) if self.deep else x

    def copy(self, x: Any) -> Any:
        t = type(x)
        if t in _ATOMS or isinstance(x, type):
            return x
        key = id(x)
        if key in self.memo:
            return self.memo[key]
        self.count += 1
        if self.count % 1024 == 0:
            self.ctx.charge(1024)
            self.ctx.alloc.check_items("copy.deepcopy()", self.count)
        out = self._copy(x, t)
        self.memo[key] = out
        return out

    def _copy(self, x: Any, t: type) -> Any:
        ctx = self.ctx
        if t is list:
            out: Any = []
            self.memo[id(x)] = out
            out.extend(self.item(v) for v in x)
            return out
        if t is dict or t is collections.OrderedDict:
            out = t()
            self.memo[id(x)] = out
            for k, v in x.items():
                out[self.item(k)] = self.item(v)
            return out
        if t is collections.defaultdict:
            out = collections.defaultdict(x.default_factory)
            self.memo[id(x)] = out
            for k, v in x.items():
                out[self.item(k)] = self.item(v)
            return out
        if t is collections.Counter:
            return collections.Counter({self.item(k): v for k, v in x.items()})
        if t in (tuple, set, frozenset, bytearray):
            return t(self.item(v) for v in x)
        if isinstance(x, collections.deque) and t.__module__ == "collections":
            return t((self.item(v) for v in x), x.maxlen)
        if t in ctx.script_classes:
            return self._script_object(x, t)
        module = getattr(t, "__module__", "") or ""
        if module in ("pxr.Gf", "pxr.Vt"):
            if hasattr(x, "__len__"):
                ctx.alloc.check_items("copy of a Vt array", len(x) * 4)
            return t(x)
        if module.startswith("pxr.") or module in ("datetime", "typing", "enum"):
            return x  # immutable values (Sdf.Path, dates) and handles (Usd.Prim): shared, as copy.copy would
        raise SandboxDenied(f"copy works on plain data, script objects and Gf/Vt values, not on {t.__name__}")

    def _script_object(self, x: Any, t: type) -> Any:
        import enum

        if isinstance(x, enum.Enum):
            return x
        if isinstance(x, tuple):  # namedtuple
            out = tuple.__new__(t, [self.item(v) for v in x])
        elif isinstance(x, BaseException):
            out = t.__new__(t, *x.args)
        else:
            out = object.__new__(t)
        self.memo[id(x)] = out
        state = getattr(x, "__dict__", None)
        if state is not None:
            for k, v in list(state.items()):
                object.__setattr__(out, k, self.item(v))
        for cls in t.__mro__:
            if cls in self.ctx.script_classes:
                for slot in cls.__dict__.get("__slots__", ()):
                    value = getattr(x, slot, _MISSING)
                    if value is not _MISSING:
                        object.__setattr__(out, slot, self.item(value))
        return out


def _as_plain(ctx: JobContext, obj: Any, factory: Callable[[Any], Any]) -> Any:
    copier = _Copier(ctx, deep=True)

    def conv(x: Any) -> Any:
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            return factory([(f.name, conv(getattr(x, f.name))) for f in dataclasses.fields(x)])
        if type(x) in (list, tuple):
            return type(x)(conv(v) for v in x)
        if type(x) is dict:
            return {conv(k): conv(v) for k, v in x.items()}
        return copier.copy(x)

    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise TypeError("asdict()/astuple() should be called on dataclass instances")
    return conv(obj)


_DATACLASS_OPTIONS = frozenset({"init", "repr", "eq", "order", "unsafe_hash", "frozen", "match_args", "kw_only",
                                "slots"})


def _dataclass(ctx: JobContext) -> Callable[..., Any]:
    def apply(cls: Any, options: dict[str, Any]) -> Any:
        if cls not in ctx.script_classes:
            raise SandboxDenied("@dataclass applies to classes the script defines")
        out = dataclasses.dataclass(cls, **options)
        ctx.script_classes.add(out)  # slots=True builds a new class
        return out

    def dataclass(cls: Any = None, /, **options: Any) -> Any:
        unknown = set(options) - _DATACLASS_OPTIONS
        if unknown:
            raise SandboxDenied(f"dataclass option(s) {', '.join(sorted(unknown))} are not available")
        if cls is None:
            return lambda c: apply(c, options)
        return apply(cls, options)

    return dataclass


def _namedtuple(ctx: JobContext, real: Callable[..., Any]) -> Callable[..., Any]:
    def namedtuple(typename: str, field_names: Any, **options: Any) -> Any:
        names = field_names.replace(",", " ").split() if isinstance(field_names, str) else list(field_names)
        if len(names) > MAX_FIELDS or not isinstance(typename, str) or len(typename) > 200:
            raise LimitExceeded("memory", f"namedtuple with more than {MAX_FIELDS} fields")
        options.pop("module", None)
        cls = real(typename, names, **options) if real is collections.namedtuple else real(typename, names)
        ctx.script_classes.add(cls)
        return cls

    return namedtuple


class _NamedTupleBase:
    """typing.NamedTuple: the functional form registers the class; as a base it stands for the real one."""

    __slots__ = ("_kg_make",)
    _kg_public: frozenset[str] = frozenset()

    def __init__(self, make: Callable[..., Any]) -> None:
        self._kg_make = make

    def __call__(self, typename: str, fields: Any = (), /) -> Any:
        return self._kg_make(typename, [f[0] if isinstance(f, tuple) else f for f in fields])

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[Any, ...]:
        return (namedtuple_base(),)


def _script_function(fn: Any) -> bool:
    from types import FunctionType

    from kitgate.sandbox.compile.compiler import FILENAME

    return type(fn) is FunctionType and fn.__code__.co_filename == FILENAME


def _functools(ctx: JobContext, name: str, real: Callable[..., Any]) -> Any:
    """wraps/total_ordering write attributes onto their argument: only onto the script's own functions and
    classes (a shared stdlib function or host class would otherwise be relabelled for every later job)."""
    if name == "wraps":
        def wraps(wrapped: Any, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
            decorate = real(wrapped, *args, **kwargs)

            def apply(wrapper: Any) -> Any:
                if not _script_function(wrapper):
                    raise SandboxDenied("functools.wraps decorates functions the script defines")
                return decorate(wrapper)

            return apply
        return wraps
    if name == "total_ordering":
        def total_ordering(cls: Any) -> Any:
            if cls not in ctx.script_classes:
                raise SandboxDenied("functools.total_ordering applies to classes the script defines")
            return real(cls)
        return total_ordering
    return _MISSING


# --- sized text helpers --------------------------------------------------------------------------------

def _textwrap(ctx: JobContext, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(text: Any, *args: Any, **kwargs: Any) -> Any:
        extras = [v for v in (*args, *kwargs.values()) if isinstance(v, str)]
        if any(len(v) > MAX_TEXT_OPTION for v in extras):
            raise LimitExceeded("memory", f"textwrap.{name} prefix/indent/placeholder longer than {MAX_TEXT_OPTION}")
        tab = kwargs.get("tabsize", 8)
        if isinstance(tab, int) and tab > 64:
            raise LimitExceeded("memory", "textwrap tabsize larger than 64")
        if isinstance(text, str):
            per_line = max([len(v) for v in extras] + [tab if isinstance(tab, int) else 8])
            ctx.alloc.check_items(f"textwrap.{name}()", len(text) * (1 + per_line))
        return real(text, *args, **kwargs)

    guarded.__name__ = name
    return guarded


def _estimate_sub(ctx: JobContext, what: str, repl: Any, string: Any) -> None:
    if isinstance(repl, (str, bytes)) and isinstance(string, (str, bytes)):
        n = len(string)
        ctx.alloc.check_items(what, n + (n + 1) * len(repl) * (1 + repl.count("\\" if isinstance(repl, str)
                                                                             else b"\\")))


def _re(ctx: JobContext, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
    if name in ("sub", "subn"):
        def sub(pattern: Any, repl: Any, string: Any, *args: Any, **kwargs: Any) -> Any:
            _estimate_sub(ctx, f"re.{name}()", repl, string)
            return real(pattern, repl, string, *args, **kwargs)
        return sub
    return real


def _pattern_sub(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
    method = getattr(obj, name)

    def sub(repl: Any, string: Any, *args: Any, **kwargs: Any) -> Any:
        _estimate_sub(ctx, f"Pattern.{name}()", repl, string)
        return method(repl, string, *args, **kwargs)

    return sub


def _template_sub(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
    method = getattr(obj, name)

    def substitute(mapping: Any = None, /, **kws: Any) -> str:
        values = list(kws.values()) + (list(mapping.values()) if isinstance(mapping, dict) else [])
        longest = max([len(v) for v in values if isinstance(v, str)] + [16])
        ctx.alloc.check_items(f"Template.{name}()", len(obj.template) + obj.template.count("$") * longest)
        return method(mapping, **kws) if mapping is not None else method(**kws)

    return substitute


# --- random ----------------------------------------------------------------------------------------------

def _random_method(ctx: JobContext, fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    """choices/sample/shuffle loop in pure-Python stdlib code outside the ticks; getrandbits/randbytes
    allocate their argument: bound them all, for module functions and Random instances alike."""
    limit = ctx.policy.limits.loop_iterations

    def guarded(*args: Any, **kwargs: Any) -> Any:
        if name in ("getrandbits", "randbytes"):
            n = args[0] if args else kwargs.get("k", kwargs.get("n", 0))
            if isinstance(n, int):
                ctx.alloc.check_items(f"random.{name}()", n // 8 if name == "getrandbits" else n)
            return fn(*args, **kwargs)
        k = kwargs.get("k", args[1] if name == "sample" and len(args) > 1 else 1)
        n = len(args[0]) if args and hasattr(args[0], "__len__") else 0
        if (isinstance(k, int) and k > limit) or n > limit:
            raise LimitExceeded("loop_iterations", f"random.{name} on more than {limit} items")
        return fn(*args, **kwargs)

    return guarded


_RANDOM_SIZED = ("choices", "sample", "shuffle", "getrandbits", "randbytes")


def _random_instance(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
    return _random_method(ctx, getattr(obj, name), name)


# --- str.translate ---------------------------------------------------------------------------------------

def _translate(ctx: JobContext, obj: str, name: str) -> Callable[[Any], str]:
    """`s.translate(table)`: one C call whose output grows by len(value) - 1 per mapped character. Only a
    plain dict is taken (a script object or a defaultdict would make up values during the call); when the
    longest value could overflow the cap, the exact output size is counted before the call."""
    def translate(table: Any) -> str:
        if type(table) is not dict:
            raise SandboxDenied("str.translate takes a plain dict table; build it with str.maketrans(...), e.g. "
                                "`s.translate(str.maketrans({'-': '_'}))`")
        longest = max((len(v) for v in table.values() if type(v) is str), default=1)
        if len(obj) * max(longest, 1) > ctx.alloc.max_items:
            ctx.charge(len(table))
            counts = collections.Counter(obj)  # counted in C
            grow = sum(counts.get(chr(k), 0) * (len(v) - 1) for k, v in table.items()
                       if type(v) is str and len(v) > 1 and isinstance(k, int) and 0 <= k <= 0x10FFFF)
            ctx.alloc.check_items("str.translate()", len(obj) + grow)
        return obj.translate(table)

    return translate


# --- operator --------------------------------------------------------------------------------------------

class _AttrGetter:
    """operator.attrgetter through the runtime's attribute guard, one dotted part at a time."""

    __slots__ = ("_kg_paths", "_kg_get")
    _kg_public: frozenset[str] = frozenset()

    def __init__(self, get: Callable[[Any, str], Any], names: tuple[Any, ...]) -> None:
        paths = []
        for n in names:
            if not isinstance(n, str):
                raise TypeError("attribute name must be a string")
            parts = n.split(".")
            if any(not p or p.startswith("_") for p in parts):
                raise SandboxDenied(f"operator.attrgetter({n!r}) reads public attributes only; for the script's "
                                    "own `_x` names write `lambda o: o._x`")
            paths.append(parts)
        self._kg_paths = paths
        self._kg_get = get

    def __call__(self, obj: Any) -> Any:
        get = self._kg_get
        out = []
        for parts in self._kg_paths:
            value = obj
            for part in parts:
                value = get(value, part)
            out.append(value)
        return out[0] if len(out) == 1 else tuple(out)

    def __repr__(self) -> str:
        return f"operator.attrgetter({', '.join(repr('.'.join(p)) for p in self._kg_paths)})"


class _ItemGetter:
    """operator.itemgetter through the runtime's item guard (`_x` keys and modules refused, like `obj[k]`)."""

    __slots__ = ("_kg_items", "_kg_get")
    _kg_public: frozenset[str] = frozenset()

    def __init__(self, get: Callable[[Any, Any], Any], items: tuple[Any, ...]) -> None:
        self._kg_items = items
        self._kg_get = get

    def __call__(self, obj: Any) -> Any:
        get = self._kg_get
        if len(self._kg_items) == 1:
            return get(obj, self._kg_items[0])
        return tuple(get(obj, k) for k in self._kg_items)

    def __repr__(self) -> str:
        return f"operator.itemgetter({', '.join(map(repr, self._kg_items))})"


class _MethodCaller:
    """operator.methodcaller: the method is looked up through the attribute guard, as `obj.name(...)` is."""

    __slots__ = ("_kg_name", "_kg_args", "_kg_kwargs", "_kg_get")
    _kg_public: frozenset[str] = frozenset()

    def __init__(self, get: Callable[[Any, str], Any], name: Any, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> None:
        if not isinstance(name, str) or name.startswith("_"):
            raise SandboxDenied("operator.methodcaller calls public methods only; write a lambda instead")
        self._kg_name, self._kg_args, self._kg_kwargs, self._kg_get = name, args, kwargs, get

    def __call__(self, obj: Any) -> Any:
        return self._kg_get(obj, self._kg_name)(*self._kg_args, **self._kg_kwargs)

    def __repr__(self) -> str:
        return f"operator.methodcaller({self._kg_name!r}, ...)"


# The function form of an operator is the operator: where the runtime guards the symbol, the function is
# that guard; the rest are the C functions themselves (no size growth beyond their operands, and the
# symbol is unguarded in scripts too). Left out: setitem/delitem/iadd... (writes past _write_),
# countOf/indexOf (a C loop over any iterator), length_hint (calls __length_hint__), call, matmul.
OPERATOR_GUARDED = frozenset({"itemgetter", "attrgetter", "methodcaller", "getitem", "add", "concat", "mul", "pow",
                              "lshift", "mod"})
OPERATOR_PLAIN = frozenset({"sub", "truediv", "floordiv", "neg", "pos", "abs", "rshift", "and_", "or_", "xor",
                            "invert", "inv", "not_", "truth", "eq", "ne", "lt", "le", "gt", "ge", "is_", "is_not",
                            "contains", "index"})


def _operator(ctx: JobContext, name: str, value: Any) -> Any:
    alloc = ctx.alloc
    if name in OPERATOR_PLAIN:
        return value
    if name == "attrgetter":
        return lambda *names: _AttrGetter(ctx.guarded_getattr, names)
    if name == "itemgetter":
        return lambda *items: _ItemGetter(ctx.guarded_getitem, items)
    if name == "methodcaller":
        return lambda method, /, *args, **kwargs: _MethodCaller(ctx.guarded_getattr, method, args, kwargs)
    if name == "getitem":
        return lambda a, b: ctx.guarded_getitem(a, b)
    if name in ("add", "concat"):
        def add(a: Any, b: Any) -> Any:
            if name == "concat" and not hasattr(type(a), "__getitem__"):
                raise TypeError(f"'{type(a).__name__}' object can't be concatenated")
            return alloc.add(a, b)
        return add
    if name == "pow":
        return lambda a, b: alloc.pow(a, b)
    if name in ("mul", "lshift", "mod"):
        return getattr(alloc, name)
    raise SandboxDenied(f"operator.{name} is not in the vetted operator subset")


# --- decimal and fractions -------------------------------------------------------------------------------

_DECIMAL_TRAPS = (decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow)


def job_decimal_context() -> decimal.Context:
    """The context a job's Decimal arithmetic runs in: the default precision and rounding, a bounded
    exponent range, the default traps. Installed for the job's thread only (see enter_job)."""
    return decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN, Emax=MAX_DECIMAL_EXP, Emin=-MAX_DECIMAL_EXP,
                           capitals=1, clamp=0, flags=[], traps=list(_DECIMAL_TRAPS))


def enter_job(policy: Any) -> Callable[[], None]:
    """Per-job interpreter state the vetted modules need; returns the undo. With `decimal` in the policy the
    job's thread gets its own bounded decimal context (the one it had is put back afterwards)."""
    if "decimal" not in policy.modules and "fractions" not in policy.modules:
        return lambda: None
    saved = decimal.getcontext()
    decimal.setcontext(job_decimal_context())
    return lambda: decimal.setcontext(saved)


def check_decimal(d: Any) -> Any:
    if type(d) is decimal.Decimal and d.is_finite():
        digits = len(d.as_tuple().digits)
        exp = d.adjusted()
        if digits > MAX_DECIMAL_DIGITS or not -MAX_DECIMAL_EXP <= exp <= MAX_DECIMAL_EXP:
            raise LimitExceeded("memory", f"Decimal with {digits} digits and exponent {exp} is outside the sandbox's "
                                          f"range (at most {MAX_DECIMAL_DIGITS} digits, exponent within "
                                          f"+-{MAX_DECIMAL_EXP})")
    return d


def _decimal_ctor(value: Any = "0", context: Any = None) -> decimal.Decimal:
    if context is not None:
        raise SandboxDenied("Decimal(value, context) is not available; arithmetic uses the job's context "
                            f"(28 digits, exponents within +-{MAX_DECIMAL_EXP})")
    if (type(value) is str and len(value) > MAX_DECIMAL_DIGITS + 64) or (
            type(value) is int and value.bit_length() > MAX_DECIMAL_DIGITS * 10 // 3 + 4):
        raise LimitExceeded("memory", f"Decimal of more than {MAX_DECIMAL_DIGITS} digits")
    return check_decimal(decimal.Decimal(value))


def _fraction_ctor(numerator: Any = 0, denominator: Any = None) -> fractions.Fraction:
    """Fraction('1e999999999') computes 10**999999999 inside fractions.py: read the exponent with the
    module's own grammar first. Decimal arguments are bounded by check_decimal."""
    if type(numerator) is str:
        m = fractions._RATIONAL_FORMAT.match(numerator)  # type: ignore[attr-defined]
        exp = m.group("exp") if m else None
        if exp is not None and len(exp) > 8 or exp is not None and abs(int(exp.replace("_", ""))) > MAX_DECIMAL_EXP:
            raise LimitExceeded("memory", f"Fraction exponent {exp[:12]} is beyond +-{MAX_DECIMAL_EXP}")
    for part in (numerator, denominator):
        check_decimal(part)
    return fractions.Fraction(numerator, denominator)


def _decimal_module(ctx: JobContext, module: str, name: str, value: Any) -> Any:
    if ctx.policy.mode != "isolated":
        raise SandboxDenied(f"{module} is available in isolated policies only")
    from kitgate.sandbox.runtime.proxies import GuardedCallable

    if module == "decimal" and name == "Decimal":
        return GuardedCallable(value, _decimal_ctor, "decimal.Decimal")
    if module == "fractions" and name == "Fraction":
        return GuardedCallable(value, _fraction_ctor, "fractions.Fraction")
    if name not in VETTED_NAMES[module]:
        raise SandboxDenied(f"{module}.{name} is not in the vetted {module} subset")
    return value  # rounding-mode strings and exception classes


# --- statistics ------------------------------------------------------------------------------------------

def _quantiles(real: Callable[..., Any]) -> Callable[..., Any]:
    def quantiles(data: Any, *, n: int = 4, method: str = "exclusive") -> Any:
        if isinstance(n, int) and n > MAX_QUANTILES:
            raise LimitExceeded("memory", f"statistics.quantiles with n={n} (limit {MAX_QUANTILES})")
        return real(data, n=n, method=method)

    return quantiles


# --- entry points used by the runtime --------------------------------------------------------------------

def module_value(ctx: JobContext, module: str, name: str, value: Any) -> Any:
    """The value a script gets for `module.name` (already allowed by the policy), or _MISSING to fall
    through to the generic handling."""
    if module == "itertools":
        return _itertools(ctx, name, value)
    if module == "json":
        if name == "dumps":
            return _json_dumps(ctx)
        if name == "loads":
            return _json_loads(ctx)
    if module == "copy" and name in ("copy", "deepcopy"):
        deep = name == "deepcopy"
        return lambda x, memo=None: _Copier(ctx, deep).copy(x)
    if module == "dataclasses":
        if name == "dataclass":
            return _dataclass(ctx)
        if name == "asdict":
            return lambda obj: _as_plain(ctx, obj, dict)
        if name == "astuple":
            return lambda obj: _as_plain(ctx, obj, tuple)
    if module == "collections":
        if name == "namedtuple":
            return _namedtuple(ctx, value)
        if name == "deque":
            return ctx_deque(ctx)
    if module == "functools":
        return _functools(ctx, name, value)
    if module == "typing" and name == "NamedTuple":
        return _NamedTupleBase(_namedtuple(ctx, value))
    if module == "textwrap" and name in ("wrap", "fill", "shorten", "indent", "dedent"):
        return _textwrap(ctx, name, value)
    if module == "re":
        return _re(ctx, name, value)
    if module == "operator":
        return _operator(ctx, name, value)
    if module in ("decimal", "fractions"):
        return _decimal_module(ctx, module, name, value)
    if module == "statistics" and name == "quantiles":
        return _quantiles(value)
    if module == "random" and ctx.rng is not None and name != "Random":
        bound = getattr(ctx.rng, name, None)
        if name in _RANDOM_SIZED and callable(bound):
            return _random_method(ctx, bound, name)
    return _MISSING


def ctx_deque(ctx: JobContext) -> type:
    """collections.deque for this job: growth by extend/+=/* is checked against the allocation cap."""
    cached = ctx.std_cache.get("deque")
    if cached is not None:
        return cached
    alloc = ctx.alloc
    from kitgate.sandbox.runtime.guards import bounded_items

    class deque(collections.deque):  # noqa: N801 - stands in for collections.deque
        __slots__ = ()

        def _bounded(self, what: str, items: Any) -> Any:
            if isinstance(items, collections.deque):
                alloc.check_items(what, len(self) + len(items))
                return items
            return bounded_items(alloc, what, len(self), items)

        def extend(self, items: Any) -> None:
            super().extend(self._bounded("deque.extend()", items))

        def extendleft(self, items: Any) -> None:
            super().extendleft(self._bounded("deque.extendleft()", items))

        def __iadd__(self, items: Any) -> Any:
            self.extend(items)
            return self

        def __mul__(self, n: Any) -> Any:
            if isinstance(n, int):
                alloc.check_items("deque * n", len(self) * max(n, 0))
            return super().__mul__(n)

        __rmul__ = __mul__

        def __imul__(self, n: Any) -> Any:
            if isinstance(n, int):
                alloc.check_items("deque *= n", len(self) * max(n, 0))
            return super().__imul__(n)

    deque.__module__ = "collections"
    ctx.std_cache["deque"] = deque
    return deque


# (qualified type, attribute) -> factory(ctx, obj, name): instance methods with a sized argument.
STD_METHOD_GUARDS: dict[tuple[str, str], Callable[[Any, Any, str], Any]] = {
    ("re.Pattern", "sub"): _pattern_sub,
    ("re.Pattern", "subn"): _pattern_sub,
    ("string.Template", "substitute"): _template_sub,
    ("string.Template", "safe_substitute"): _template_sub,
    **{("random.Random", n): _random_instance for n in _RANDOM_SIZED},
    ("builtins.str", "translate"): _translate,
}

# Modules whose reachable names are fixed here, whatever a policy lists (the loader refuses other names):
# each name below was reasoned about in SECURITY.md's stdlib table.
VETTED_NAMES: dict[str, frozenset[str]] = {
    "operator": OPERATOR_GUARDED | OPERATOR_PLAIN,
    "decimal": frozenset({"Decimal", "ROUND_CEILING", "ROUND_DOWN", "ROUND_FLOOR", "ROUND_HALF_DOWN",
                          "ROUND_HALF_EVEN", "ROUND_HALF_UP", "ROUND_UP", "ROUND_05UP", "DecimalException",
                          "InvalidOperation", "DivisionByZero", "Overflow", "Underflow", "Inexact", "Rounded"}),
    "fractions": frozenset({"Fraction"}),
}

# typing/abc keep their machinery on the script's class under single-underscore names: setting
# `_is_runtime_protocol` would make isinstance() probe foreign objects with the real getattr.
TYPING_MACHINERY = frozenset({"_is_protocol", "_is_runtime_protocol"})


def is_typing_machinery(name: str) -> bool:
    return name in TYPING_MACHINERY or name.startswith("_abc_")


_PROTOCOL_META = type(typing.Protocol)


def refuse_protocol_checks(classes: Any) -> None:
    """isinstance()/issubclass()/class patterns against a Protocol run typing's structural probes (the real
    getattr on the checked object): refused; Protocols are for annotations."""
    for c in classes if type(classes) is tuple else (classes,):
        if isinstance(c, _PROTOCOL_META) and c.__dict__.get("_is_protocol"):
            raise SandboxDenied(f"isinstance()/issubclass() against the Protocol {c.__name__} is not available "
                                "(Protocols are for type annotations); check a concrete class or use hasattr()")


def is_enum_base(cls: Any) -> bool:
    import enum

    return isinstance(cls, enum.EnumType) and cls in (enum.Enum, enum.IntEnum, enum.Flag, enum.IntFlag,
                                                       enum.StrEnum)


def is_typing_base(cls: Any) -> bool:
    """typing.Protocol and typing.Generic as bases of the script's own classes (annotations only)."""
    return cls is typing.Protocol or cls is typing.Generic


def namedtuple_base() -> Any:
    return typing.NamedTuple.__mro_entries__((typing.NamedTuple,))[0]  # type: ignore[attr-defined]


__all__ = ["TickingIter", "module_value", "STD_METHOD_GUARDS", "VETTED_NAMES", "is_enum_base", "namedtuple_base",
           "is_typing_base", "is_typing_machinery", "refuse_protocol_checks", "enter_job"]
