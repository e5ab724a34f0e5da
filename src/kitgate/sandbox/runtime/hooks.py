"""Guarded execution of a compiled script: the hooks RestrictedPython calls, and run_guarded.

RestrictedPython rewrites ``a.b``, ``a[k]``, writes, iteration, ``print`` and ``*args`` into calls
to hooks; this module supplies them for one job (a :class:`JobContext`). Attribute access is
decided per (type, name) against the policy and the decision is cached on the policy, so the hot
path is one dict lookup plus ``getattr``. pxr objects flow unwrapped because pxr functions need the
real objects back; the guard is that a script can only *reach* an attribute through ``_getattr_``.

``run_guarded`` never raises. The value of the script's last expression statement (or a global
named ``result``) is converted to plain JSON *inside* the run, under the result cap; the host
never calls a method on a sandbox object afterwards, and the job context is closed so code a
script left behind (a suspended generator's ``finally``) cannot act after the job.
"""

from __future__ import annotations

import collections
import contextlib
import math
import os
import random
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType, SimpleNamespace
from typing import TYPE_CHECKING, Any, NamedTuple

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence

from kitgate.sandbox.compile import hints
from kitgate.sandbox.compile.compiler import (
    FILENAME,
    LAST_VALUE,
    READABLE_DUNDERS,
    CompileResult,
    name_problem,
)
from kitgate.sandbox.policy import Policy

if TYPE_CHECKING:
    from kitgate.sandbox.live import ThrottledText
from kitgate.sandbox.runtime import numpy_surface, stdlib
from kitgate.sandbox.runtime.assets import AssetDenied, check_asset_path, check_asset_value
from kitgate.sandbox.runtime.guards import (
    CONTAINER_GUARDS,
    INT_GUARDS,
    STR_GUARDS,
    Allocation,
    GuardedBuiltins,
    LimitExceeded,
    SafeFormatter,
    SandboxDenied,
    bounded_items,
    guarded_format,
    guarded_iter,
    guarded_str,
    make_math_guards,
    make_range,
    make_sized,
    make_sum,
)
from kitgate.sandbox.runtime.native import MAX_DEPTH, check_args, checked_call
from kitgate.sandbox.runtime.proxies import (
    METHOD_GUARDS,
    GuardedCallable,
    ModuleProxy,
    WriteProxy,
    is_native,
    module_value_guard,
    native_factory,
    native_value,
    qualname,
)

SCRIPT_MODULE = "__main__"  # `if __name__ == "__main__":` is true for the job script
TICK_INTERVAL = 32
MAX_DECISIONS = 50_000
MAX_ERROR_MESSAGE = 2000
_BOOST_INSTANCE = "Boost.Python.instance"

_MISSING = object()

# decision markers
_ALLOW = 1
_DENY = 2
_CLASS = 3
_MODULE = 4


@dataclass
class RunReport:
    status: str  # "succeeded" | "failed" | "timed_out"
    stdout: str = ""
    stdout_truncated: int = 0
    value: Any = None
    error: dict[str, Any] | None = None
    limit: str | None = None
    run_ms: float = 0.0
    steps: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class _Output:
    __slots__ = ("parts", "size", "cap", "truncated", "flood_cap", "live")

    def __init__(self, cap: int, live: ThrottledText | None = None) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.cap = cap
        self.truncated = 0
        self.flood_cap = cap * 16 + 16 * 2**20
        self.live = live  # kitgate.sandbox.live.ThrottledText: the kept text, passed on while the job runs

    def write(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError("print produced non-text output")
        n = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
        room = self.cap - self.size
        if n <= room:
            self.parts.append(text)
            self.size += n
            if self.live is not None:
                self.live(text)
            return
        if room > 0:
            piece = text.encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore")
            self.parts.append(piece)
            if self.live is not None:
                self.live(piece)
            kept = len(piece.encode("utf-8", "surrogatepass"))
            self.size += kept
            n -= kept
        self.truncated += n
        if self.truncated > self.flood_cap:
            raise LimitExceeded("output", f"output exceeded {self.cap} bytes and kept flooding")

    def text(self) -> str:
        return "".join(self.parts)


class JobContext:
    """Per-job state: limits, counters, script-created classes, layers the job may name."""

    def __init__(self, policy: Policy, stage: Any, deadline: float, rng_seed: int | None,
                 live: ThrottledText | None = None) -> None:
        self.policy = policy
        self.stage = stage
        self.deadline = deadline
        self.alloc = Allocation(policy.limits.memory_mb, deadline)
        self.out = _Output(policy.limits.output_bytes, live)
        self.script_classes: set[type] = set()
        self.known_anon: set[str] = set()
        self.tripped: LimitExceeded | None = None
        self.closed = False
        self.math_guards = make_math_guards(self.alloc)
        self.rng = random.Random(rng_seed if rng_seed is not None else int.from_bytes(os.urandom(8), "big")) \
            if "random" in policy.modules else None
        self.modules: dict[str, ModuleProxy] = {}
        self.generators: weakref.WeakSet[Any] = weakref.WeakSet()
        self.steps = 0
        self.formatter: SafeFormatter | None = None
        self.editable: set[str] = set()
        self.charge: Callable[[int], None] = lambda n: None  # set by Hooks: charge n steps to the budget
        self.guarded_getattr: Callable[[Any, str], Any] = _unset_hook  # set by Hooks: `obj.name` as scripts get it
        self.guarded_getitem: Callable[[Any, Any], Any] = _unset_hook  # set by Hooks: `obj[key]` as scripts get it
        self.std_cache: dict[str, Any] = {}
        self.type_values: dict[type, Any] = {}  # real type -> what type(x) hands back (see Hooks.type_of)
        if stage is not None:
            try:
                for layer in (stage.GetRootLayer(), stage.GetSessionLayer(), stage.GetEditTarget().GetLayer()):
                    if layer is not None:
                        self.editable.add(layer.identifier)
                for layer in stage.GetLayerStack(True):
                    self.known_anon.add(layer.identifier)
                for layer in stage.GetUsedLayers():
                    self.known_anon.add(layer.identifier)
            except Exception:  # noqa: S110 - a stage without layers simply adds nothing
                pass

    # -- assets
    def check_asset(self, path: Any, anchor: Any) -> str:
        return check_asset_path(path, self.policy.asset_roots, anchor, self.known_anon)

    def check_asset_loose(self, path: str) -> None:
        if path.startswith("anon:"):
            check_asset_path(path, self.policy.asset_roots, None, self.known_anon)
        else:
            check_asset_value(path, self.policy.asset_roots)

    def inside_roots(self, path: str) -> bool:
        real = os.path.realpath(path)
        return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in self.policy.asset_roots)

    def check_owner(self, obj: Any) -> None:
        """Edits are allowed only on the job stage's root/session/edit-target layer and on layers the job
        created; a shared asset layer reached through a prim stack or an edit target stays read-only."""
        from pxr import Sdf, Usd

        if isinstance(obj, Sdf.Layer):
            layer = obj
        elif isinstance(obj, Sdf.Spec):
            layer = obj.layer
        elif isinstance(obj, Usd.EditTarget):
            layer = obj.GetLayer()
        else:
            return
        if layer is None or layer.identifier not in self.editable:
            raise SandboxDenied("this layer is not editable by the job; edit the job stage (stage.GetRootLayer()) "
                                "or a layer the script created with Sdf.Layer.CreateAnonymous()")

    def trip(self, limit: str, message: str) -> LimitExceeded:
        if self.tripped is None:
            self.tripped = LimitExceeded(limit, message)
        return LimitExceeded(self.tripped.limit, self.tripped.message)


def _unset_hook(*args: Any) -> Any:
    raise SandboxDenied("the job's guards are not set up")


def _mro_quals(t: type) -> list[str]:
    out = []
    for c in t.__mro__:
        if c is object:
            continue
        q = qualname(c)
        if q == _BOOST_INSTANCE:
            continue
        out.append(q)
    return out


class TypeView:
    """What `type(x)` returns for a type the script could not name itself: it has a `__name__`, compares
    equal to the type and works in isinstance(), but cannot be called, subclassed or walked (a real
    `type(b"")` would be an unguarded bytes constructor, `type(stage)` an unguarded Usd.Stage)."""

    __slots__ = ("_kg_type",)
    _kg_public: frozenset[str] = frozenset()

    def __init__(self, t: type) -> None:
        self._kg_type = t

    def __eq__(self, other: object) -> bool:
        return self._kg_type is _unwrap_types(other)

    def __hash__(self) -> int:
        return hash(self._kg_type)

    def __repr__(self) -> str:
        return f"<class '{self._kg_type.__qualname__}'>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise SandboxDenied(f"type(x) of a {self._kg_type.__name__} is a read-only view; construct values with "
                            "the names the policy lists (e.g. Sdf.Path(...), Gf.Vec3f(...))")


def _dunder_read(ctx: JobContext, obj: Any, name: str) -> Any:
    """`__name__`, `__qualname__`, `__doc__` (text only) and `__class__` (as type() answers it)."""
    if type(obj) is TypeView:
        obj = obj._kg_type
    elif type(obj) is GuardedCallable:
        obj = obj._kg_wrapped
    if name == "__class__":
        return ctx.type_of(obj)
    value = getattr(obj, name, None)
    return value if isinstance(value, str) else None


def _decide(policy: Policy, t: type, name: str, is_class: bool) -> Any:
    """Decide once per (type, name): allow, deny (with message) or a guard factory."""
    if name in READABLE_DUNDERS:
        return _dunder_read
    if name.startswith("_"):
        return (_DENY, f"attribute {name!r} is private: underscore names are readable only on the script's own "
                       "objects")
    public = getattr(t, "_kg_public", None) if not is_class else None
    if public is not None and isinstance(public, frozenset):
        return _ALLOW if name in public else (_DENY, f"{t.__name__} has no public attribute {name!r}")
    quals = _mro_quals(t)
    allowed = False
    for q in quals:
        rule = policy.type_rule(q)
        if rule is not None and rule.allows(name):
            allowed = True
            break
    if not allowed:
        kind = "class" if is_class else "type"
        instead = hints.attribute_hint(quals, name)
        return (_DENY, f"{name!r} is not allowed on {kind} {quals[0] if quals else t.__name__} "
                       f"by policy {policy.name!r}" + (f"; instead, {instead}" if instead else
                                                       f"; GET /v1/policies/{policy.name} lists what each type allows"))
    # In-process a native crash kills the host: every pxr/Kit callable checks its string arguments
    # (native.py). Isolated children only guard the known recursive entry points (a crash is contained).
    native = policy.mode == "in_process" and bool(quals) and is_native(quals[0])
    for q in quals:
        std = stdlib.STD_METHOD_GUARDS.get((q, name)) or numpy_surface.METHOD_GUARDS.get((q, name))
        if std is not None:
            if is_class:
                return (_DENY, f"{q}.{name} must be called on an instance")
            return std
        guard = METHOD_GUARDS.get((q, name))
        if guard is not None:
            factory, static = guard
            if is_class and not static:
                return (_DENY, f"{q}.{name} must be called on an instance")
            return native_factory(factory) if native else factory
        if q in ("builtins.str", "builtins.bytes", "builtins.bytearray") and name in STR_GUARDS:
            if is_class:
                return (_DENY, f"{q}.{name} must be called on an instance")
            return _STR_ADAPTERS[name]
        if q in ("builtins.list", "builtins.bytearray") and name in CONTAINER_GUARDS:
            if is_class:
                return (_DENY, f"{q}.{name} must be called on an instance")
            return _CONTAINER_ADAPTERS[name]
        if q == "builtins.int" and name in INT_GUARDS:
            if is_class:
                return (_DENY, f"{q}.{name} must be called on an instance")
            return _INT_ADAPTERS[name]
        if q == "builtins.str" and name in ("format", "format_map"):
            if is_class:
                return (_DENY, f"{q}.{name} must be called on an instance")
            return _format_method
    if native:
        attr = getattr(t, name, None)
        if isinstance(attr, type):
            return _NATIVE_CLASS
        if callable(attr):
            return _NATIVE_METHOD
    return _ALLOW


_NATIVE_CLASS = native_factory(None)


def _NATIVE_METHOD(ctx: JobContext, obj: Any, name: str) -> Any:  # noqa: N802 - a decision marker like _ALLOW
    return checked_call(getattr(obj, name), ctx)


def _str_adapter(fn: Callable[[Allocation, Any, str], Any]) -> Callable[[JobContext, Any, str], Any]:
    return lambda ctx, obj, name: fn(ctx.alloc, obj, name)


_STR_ADAPTERS = {name: _str_adapter(fn) for name, fn in STR_GUARDS.items()}
_CONTAINER_ADAPTERS = {name: _str_adapter(fn) for name, fn in CONTAINER_GUARDS.items()}
_INT_ADAPTERS = {name: _str_adapter(fn) for name, fn in INT_GUARDS.items()}


def _format_method(ctx: JobContext, obj: str, name: str) -> Callable[..., str]:
    """`str.format`/`format_map` through the sandbox formatter (attribute lookups are guarded)."""
    fmt = ctx.formatter
    if name == "format":
        return lambda *args, **kwargs: fmt.vformat(obj, args, kwargs)
    return lambda mapping: fmt.vformat(obj, (), mapping)


class _StepHooks(NamedTuple):
    """The step counter's closures: they share one `steps`/`checkpoint` pair, so they are built together."""

    charge: Callable[[int], None]
    tickx: Callable[[], bool]
    tick_refill: Callable[[], None]
    steps_taken: Callable[[], int]


def _make_script_attr(ctx: JobContext) -> Callable[[Any, str], Any]:
    """Attribute reads on the script's own classes and instances, which the policy's type rules do not cover."""

    def script_attr(obj: Any, name: str) -> Any:
        """The script's own classes and instances: public and `_private` names, the readable dunders and
        the special methods scripts may define; never the sandbox's `_x_` names or other dunders."""
        if name in READABLE_DUNDERS:
            return _dunder_read(ctx, obj, name)
        if name.startswith("_") and (name_problem(name, method=True) is not None
                                     or stdlib.is_typing_machinery(name)):
            raise SandboxDenied(f"attribute {name!r} is not available: dunders other than the everyday "
                                "special methods, `_x_` names and typing/abc machinery are reserved")
        return getattr(obj, name)

    return script_attr


def _make_super_attr(ctx: JobContext, script_attr: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    """`super().name` reads, which only make sense inside a class the script defined."""
    script_classes = ctx.script_classes

    def super_attr(obj: Any, name: str) -> Any:
        """`super().name` inside the script's own classes; the next class in the MRO is a script class, a
        built-in exception, an Enum or a namedtuple base, all of whose reachable names are plain."""
        if obj.__thisclass__ not in script_classes:
            raise SandboxDenied("super() is available inside classes the script defines")
        return script_attr(obj, name)

    return super_attr


def _make_module_attr(ctx: JobContext, module_proxy: Callable[[str], ModuleProxy],
                      real_module: Callable[[str], ModuleType]) -> Callable[[ModuleProxy, str], Any]:
    """`module.name` reads: resolved once under the policy's module rules and cached on the proxy."""
    policy = ctx.policy
    in_process = policy.mode == "in_process"

    def module_attr(proxy: ModuleProxy, name: str) -> Any:
        values = proxy._kg_values
        if name in values:
            return values[name]
        mod = proxy._kg_name
        sub = f"{mod}.{name}"
        if sub in policy.modules or any(m.startswith(sub + ".") for m in policy.modules):
            value: Any = module_proxy(sub)
        else:
            rule = policy.modules.get(mod)
            if rule is None or not rule.allows(name) or name.startswith("_"):
                raise SandboxDenied(f"module {mod!r} has no attribute {name!r} under policy {policy.name!r}")
            real = real_module(mod)
            try:
                value = getattr(real, name)
            except AttributeError:
                raise SandboxDenied(f"module {mod!r} has no attribute {name!r}") from None
            if isinstance(value, ModuleType):
                raise SandboxDenied(f"{sub} is a module the policy does not list")
            if numpy_surface.owns(mod):
                std = numpy_surface.module_value(ctx, mod, name, value)
            else:
                std = stdlib.module_value(ctx, mod, name, value) if not is_native(mod) else stdlib._MISSING
            value = module_value_guard(ctx, mod, name, value) if std is stdlib._MISSING else std
            if in_process and is_native(mod):
                value = native_value(value, ctx)
        values[name] = value
        return value

    return module_attr


def _make_apply(ctx: JobContext) -> Callable[[Any, Any, str], Any]:
    """Carry out a cached decision: plain getattr, a refusal, or a guard factory."""

    def apply(d: Any, obj: Any, name: str) -> Any:
        if d is _ALLOW:
            return getattr(obj, name)
        if type(d) is tuple:
            raise SandboxDenied(d[1])
        return d(ctx, obj, name)

    return apply


def _make_slow_getattr(ctx: JobContext, apply: Callable[[Any, Any, str], Any],
                       script_attr: Callable[[Any, str], Any], super_attr: Callable[[Any, str], Any],
                       module_attr: Callable[[ModuleProxy, str], Any]) -> Callable[[Any, str, type, Any], Any]:
    """The uncached path of `obj.name`: decide under the policy, remember the decision, then apply it."""
    policy = ctx.policy
    decisions = policy.decisions
    script_classes = ctx.script_classes

    def slow_getattr(obj: Any, name: str, t: type, key: tuple[Any, str]) -> Any:
        if ctx.closed:
            raise ctx.trip("closed", "the job has ended")
        if not isinstance(name, str):
            raise TypeError("attribute name must be a string")
        if t is super:
            return super_attr(obj, name)
        if name in READABLE_DUNDERS and t in (ModuleProxy, GuardedCallable):
            if t is ModuleProxy and name in ("__name__", "__qualname__"):
                return obj._kg_name
            return _dunder_read(ctx, obj, name)
        if t is ModuleProxy:
            return module_attr(obj, name)
        if t is GuardedCallable:
            # `Sdf.Path.absoluteRootPath`, `Sdf.Path.IsValidIdentifier`: class access on the wrapped class
            obj = obj._kg_wrapped
            if not isinstance(obj, type):
                raise SandboxDenied(f"{name!r} is not available on this function")
            key = (type(obj), name)
        if isinstance(obj, type):
            if obj in script_classes:
                return script_attr(obj, name)
            ckey = ("class", obj, name)  # never collides with the (type, name) instance keys
            d = decisions.get(ckey)
            if d is None:
                d = _decide(policy, obj, name, True)
                decisions[ckey] = d
            decisions.setdefault(key, _CLASS)
            return apply(d, obj, name)
        if t in script_classes:
            return script_attr(obj, name)
        d = _decide(policy, t, name, False)
        if len(decisions) > MAX_DECISIONS:
            decisions.clear()  # names can come from format strings: keep the cache bounded
        decisions[key] = d
        return apply(d, obj, name)

    return slow_getattr


def _make_getattr(ctx: JobContext, apply: Callable[[Any, Any, str], Any],
                  slow_getattr: Callable[[Any, str, type, Any], Any]) -> Callable[[Any, str], Any]:
    """`obj.name` as scripts get it (`_getattr_`): the hot path, one cache lookup before getattr."""
    decisions = ctx.policy.decisions
    script_classes = ctx.script_classes

    def _getattr_(obj: Any, name: str) -> Any:
        t = type(obj)
        if t is ModuleProxy and type(name) is str and not ctx.closed:
            value = obj._kg_values.get(name, _MISSING)  # already resolved under the policy by module_attr
            if value is not _MISSING:
                return value
        key = (t, name)
        d = decisions.get(key)
        if d is _ALLOW:
            return getattr(obj, name)
        if d is None or d is _CLASS or d is _MODULE or t in script_classes or t is super:
            return slow_getattr(obj, name, t, key)
        return apply(d, obj, name)

    return _getattr_


def _make_getitem(ctx: JobContext) -> Callable[[Any, Any], Any]:
    """`obj[key]` as scripts get it (`_getitem_`): no private keys, no subscripted modules."""
    in_process = ctx.policy.mode == "in_process"

    def _getitem_(obj: Any, key: Any) -> Any:
        if type(key) is str:
            if key.startswith("_"):
                raise SandboxDenied(f"item {key!r} is private")
            if in_process and len(key) > MAX_DEPTH:
                check_args((key,), None)  # a native container may parse its key as a path
        if type(obj) is ModuleProxy:
            raise SandboxDenied("modules cannot be subscripted")
        return obj[key]

    return _getitem_


def _make_write(ctx: JobContext) -> Callable[[Any], Any]:
    """The target of every attribute/item write (`_write_`): the object itself, or a proxy that checks writes."""
    policy = ctx.policy
    script_classes = ctx.script_classes

    def _write_(obj: Any) -> Any:
        t = type(obj)
        if t is dict or t is set or t in _STD_CONTAINERS:
            return obj
        if t is list or t is bytearray:
            return _SequenceWriter(obj, ctx.alloc)  # slice assignment can double a list in one call
        if t in script_classes or (t.__module__ == "collections" and isinstance(obj, collections.deque)):
            return obj  # a deque's item assignment cannot grow it
        if getattr(t, "_kg_public", None) is not None:
            return obj  # sandbox helper types (e.g. SubLayerList) check their own writes
        if ctx.closed:
            raise ctx.trip("closed", "the job has ended")
        for q in _mro_quals(t):
            rule = policy.type_rule(q)
            if rule is not None and (rule.settable or rule.item_write):
                return WriteProxy(ctx, obj, rule, q)
        raise SandboxDenied(f"objects of type {t.__name__} cannot be modified by scripts")

    return _write_


def _make_set_name_check(ctx: JobContext) -> Callable[[Any, Any], None]:
    """The name rule for attribute writes: underscore names only on the script's own objects."""
    script_classes = ctx.script_classes

    def is_script(obj: Any) -> bool:
        return type(obj) in script_classes or (isinstance(obj, type) and obj in script_classes)

    def check_set_name(obj: Any, name: Any) -> None:
        if not isinstance(name, str):
            raise TypeError("attribute name must be a string")
        if name.startswith("_") and (name_problem(name) is not None or not is_script(obj)
                                     or stdlib.is_typing_machinery(name)):
            raise SandboxDenied(f"attribute {name!r} cannot be set: underscore names only on the script's own "
                                "objects, never dunders or `_x_` names")

    return check_set_name


def _make_aug_hooks(ctx: JobContext, getattr_hook: Callable[[Any, str], Any],
                    getitem_hook: Callable[[Any, Any], Any], write_hook: Callable[[Any], Any],
                    check_set_name: Callable[[Any, Any], None]) -> tuple[Callable[..., None], Callable[..., None]]:
    """`x[k] += v` and `x.a += v` (`_aug_item_`, `_aug_attr_`): a guarded read, a bounded op, a guarded write."""
    inplace = ctx.alloc.inplace

    def _aug_item_(obj: Any, key: Any, op: str, value: Any) -> None:
        target = write_hook(obj)
        target[key] = inplace(op, getitem_hook(obj, key), value)

    def _aug_attr_(obj: Any, name: str, op: str, value: Any) -> None:
        check_set_name(obj, name)
        target = write_hook(obj)
        setattr(target, name, inplace(op, getattr_hook(obj, name), value))

    return _aug_item_, _aug_attr_


def _make_attr_builtins(getattr_hook: Callable[[Any, str], Any], write_hook: Callable[[Any], Any],
                        check_set_name: Callable[[Any, Any], None]
                        ) -> tuple[Callable[..., Any], Callable[[Any, Any], bool], Callable[[Any, Any, Any], None]]:
    """The `getattr`/`hasattr`/`setattr` builtins, routed through the same guards as `obj.name` and writes."""

    def getattr_(obj: Any, name: Any, *default: Any) -> Any:
        """getattr through the same guard as `obj.name`; a refused name counts as missing."""
        if len(default) > 1:
            raise TypeError("getattr expected at most 3 arguments")
        try:
            return getattr_hook(obj, name)
        except AttributeError:
            if default:
                return default[0]
            raise

    def hasattr_(obj: Any, name: Any) -> bool:
        try:
            getattr_hook(obj, name)
        except AttributeError:
            return False
        return True

    def setattr_(obj: Any, name: Any, value: Any) -> None:
        check_set_name(obj, name)
        setattr(write_hook(obj), name, value)

    return getattr_, hasattr_, setattr_


def _make_step_counter(ctx: JobContext, globals_ref: list[dict[str, Any]]) -> _StepHooks:
    """The step budget and deadline: statement/expression ticks and work charged by C or stdlib code."""
    checkpoint = TICK_INTERVAL
    steps = 0
    max_steps = ctx.policy.limits.loop_iterations
    deadline = ctx.deadline
    monotonic = time.monotonic

    def slow_check() -> None:
        """Every TICK_INTERVAL steps: closed job, tripped limit, step budget, deadline."""
        nonlocal checkpoint
        if ctx.closed:
            checkpoint = 0
            raise ctx.trip("closed", "the job has ended")
        if ctx.tripped is not None:
            checkpoint = 0
            raise ctx.trip(ctx.tripped.limit, ctx.tripped.message)
        if steps > max_steps:
            checkpoint = 0
            raise ctx.trip("loop_iterations", f"the script exceeded {max_steps} loop iterations/function calls")
        if monotonic() > deadline:
            checkpoint = 0
            raise ctx.trip("timeout", "the script exceeded its time limit")
        checkpoint = min(steps + TICK_INTERVAL, max_steps + 1)

    def charge(n: int) -> None:
        """n steps of work done by C or stdlib code on the script's behalf (ticking iterators, json)."""
        nonlocal steps
        steps += n
        if steps >= checkpoint:
            slow_check()

    def _tickx_() -> bool:
        """Expression tick (comprehension filters, lambda bodies): a Python call."""
        nonlocal steps
        steps += 1
        if steps >= checkpoint:
            slow_check()
        return True

    def _tick_refill_() -> None:
        """Statement ticks call a C-level counter (``range_iterator.__next__``) that raises
        StopIteration every TICK_INTERVAL steps; only then does Python code run the checks."""
        nonlocal steps
        steps += TICK_INTERVAL
        slow_check()
        globals_ref[0]["_tick_"] = iter(range(TICK_INTERVAL)).__next__

    def steps_taken() -> int:
        return steps

    return _StepHooks(charge, _tickx_, _tick_refill_, steps_taken)


class Hooks:
    """Builds the globals of one job: binds the hook closures once, then hands them to the script."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.globals_ref: list[dict[str, Any]] = []
        script_attr = _make_script_attr(ctx)
        apply = _make_apply(ctx)
        slow_getattr = _make_slow_getattr(ctx, apply, script_attr, _make_super_attr(ctx, script_attr),
                                          _make_module_attr(ctx, self.module_proxy, self.real_module))
        self._getattr_ = _make_getattr(ctx, apply, slow_getattr)
        self._getitem_ = _make_getitem(ctx)
        self._write_ = _make_write(ctx)
        check_set_name = _make_set_name_check(ctx)
        self._aug_item_, self._aug_attr_ = _make_aug_hooks(ctx, self._getattr_, self._getitem_, self._write_,
                                                           check_set_name)
        self.getattr_, self.hasattr_, self.setattr_ = _make_attr_builtins(self._getattr_, self._write_,
                                                                          check_set_name)
        ticks = _make_step_counter(ctx, self.globals_ref)
        self._tickx_ = ticks.tickx
        self._tick_refill_ = ticks.tick_refill
        self.steps_taken = ticks.steps_taken
        ctx.charge = ticks.charge
        ctx.type_of = self.type_of  # type: ignore[attr-defined]
        ctx.guarded_getattr = self._getattr_
        ctx.guarded_getitem = self._getitem_
        ctx.formatter = SafeFormatter(self._getattr_, self._getitem_, ctx.alloc)

    # -- imports
    def real_module(self, name: str) -> ModuleType:
        import importlib

        if name == "pxr":
            import pxr

            return pxr
        try:
            if numpy_surface.owns(name):
                numpy_surface.import_numpy()  # one BLAS thread, before numpy's first import
            return importlib.import_module(name)
        except ImportError:
            raise ImportError(f"module {name!r} is not available on this host") from None

    def module_proxy(self, name: str) -> ModuleProxy:
        proxy = self.ctx.modules.get(name)
        if proxy is None:
            policy = self.ctx.policy
            if not (name in policy.modules or any(m.startswith(name + ".") for m in policy.modules)):
                raise SandboxDenied(f"import of {name!r} is not allowed by policy {policy.name!r}")
            if name in policy.modules:
                self.real_module(name)  # fail early with ImportError if the host lacks it
            proxy = ModuleProxy(name)
            self.ctx.modules[name] = proxy
        return proxy

    def import_(self, name: str, as_alias: bool) -> ModuleProxy:
        if as_alias:
            return self.module_proxy(name)
        self.module_proxy(name)
        return self.module_proxy(name.split(".")[0])

    def import_from(self, module: str, name: str) -> Any:
        return self._getattr_(self.module_proxy(module), name)

    # -- generators
    def track_generator(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator the compiler puts on every generator function: remember what it starts."""
        live = self.ctx.generators

        def start(*args: Any, **kwargs: Any) -> Any:
            gen = fn(*args, **kwargs)
            live.add(gen)
            return gen

        return start

    def close_generators(self) -> None:
        """Close every generator the job left suspended, after the context is closed (so their `finally`
        code meets refusing hooks). One kept alive by a reference cycle would otherwise leave a
        `with Sdf.ChangeBlock()` or `Usd.EditContext` open on the host's stage, and run its `finally`,
        whenever the host's garbage collector got to it."""
        live = self.ctx.generators
        while live:
            gen = live.pop()
            if gen.gi_frame is not None:
                with contextlib.suppress(BaseException):  # one refusing `finally` must not spare the rest
                    gen.close()

    # -- classes
    def build_class(self, name: str, bases: tuple[type, ...], ns: dict[str, Any], **kw: Any) -> type:
        """Every `class` statement (RestrictedPython passes it as the metaclass). Bases: the script's own
        classes, built-in exceptions, enum.Enum/IntEnum/Flag/IntFlag/StrEnum and typing.NamedTuple."""
        import enum

        ctx = self.ctx
        allowed_bases = {v for v in GuardedBuiltins.PLAIN.values() if isinstance(v, type) and issubclass(v, Exception)}
        named_tuple = stdlib.namedtuple_base()
        is_enum = False
        for b in bases:
            if stdlib.is_enum_base(b) or (b in ctx.script_classes and isinstance(b, enum.EnumType)):
                is_enum = True
            elif (b not in ctx.script_classes and b not in allowed_bases and b is not named_tuple
                  and not stdlib.is_typing_base(b)):
                raise SandboxDenied(f"class {name} may only derive from classes defined in the script, built-in "
                                    "exception types, enum.Enum (and its siblings) or typing.NamedTuple")
        machinery = sorted(k for k in ns if stdlib.is_typing_machinery(k))
        if machinery:
            raise SandboxDenied(f"class {name} may not set {', '.join(machinery)}: typing/abc keep their own state "
                                "under these names")
        if named_tuple in bases:
            import typing

            if kw:
                raise SandboxDenied("NamedTuple classes take no class keywords")
            cls = typing.NamedTupleMeta(name, bases, dict(ns))  # type: ignore[attr-defined]
        elif is_enum:
            namespace = enum.EnumType.__prepare__(name, bases, **kw)
            for key, value in ns.items():
                namespace[key] = value
            cls = enum.EnumType(name, bases, namespace, **kw)
        else:
            cls = type(name, bases, dict(ns), **kw)
        ctx.script_classes.add(cls)
        return cls

    def type_of(self, obj: Any) -> Any:
        """type(x): the class itself when the script could name it (its own classes, the builtins the policy
        hands out, including the guarded str/bytes/bytearray), else a TypeView."""
        t = type(obj)
        if t in self.ctx.script_classes:
            return t
        value = self.ctx.type_values.get(t)
        return value if value is not None else TypeView(t)

    def type_(self, *args: Any) -> Any:
        if len(args) != 1:
            raise SandboxDenied("type() with three arguments builds classes; use a class statement")
        return self.type_of(args[0])

    def match_class(self, cls: Any, positional: int, keywords: tuple[str, ...]) -> Any:
        """The class a `case Cls(...)` pattern checks. Patterns read attributes with the real getattr, so
        sub-patterns are allowed on the script's own classes (public `__match_args__` names only) and on
        builtins that match themselves (`case str(s)`); any other class only as a plain type check."""
        real = _unwrap_types(cls)
        if not isinstance(real, type):
            raise TypeError("called match pattern must be a class")
        stdlib.refuse_protocol_checks(real)
        if real in self.ctx.script_classes:
            names = list(keywords) + list(getattr(real, "__match_args__", ())[:positional])
            for n in names:
                if not isinstance(n, str) or n.startswith("_"):
                    raise SandboxDenied(f"class pattern may not read attribute {n!r}")
            return real
        if (positional == 0 or (positional == 1 and real in _SELF_MATCHING)) and not keywords:
            return real
        raise SandboxDenied(f"class patterns with sub-patterns work on classes the script defines, not on "
                            f"{real.__name__}; write `case {real.__name__}() as x:` and read x's attributes")

    def isinstance_(self, obj: Any, classes: Any) -> bool:
        classes = _unwrap_types(classes)
        stdlib.refuse_protocol_checks(classes)
        return isinstance(obj, classes)

    def issubclass_(self, cls: Any, classes: Any) -> bool:
        classes = _unwrap_types(classes)
        stdlib.refuse_protocol_checks(classes)
        return issubclass(_unwrap_types(cls), classes)

    # -- globals
    def special_builtins(self) -> dict[str, Any]:
        """The builtins this job supplies itself, each bound to the job's guards and limits."""
        ctx = self.ctx
        alloc = ctx.alloc
        return {
            "range": make_range(ctx.policy.limits.loop_iterations),
            "pow": alloc.pow,
            "format": guarded_format,
            "isinstance": self.isinstance_,
            "issubclass": self.issubclass_,
            # GuardedCallable: still usable in isinstance() and for class attributes (str.join)
            "bytes": GuardedCallable(bytes, make_sized(alloc, bytes), "bytes"),
            "bytearray": GuardedCallable(bytearray, make_sized(alloc, bytearray), "bytearray"),
            "str": GuardedCallable(str, guarded_str, "str"),
            "sum": make_sum(alloc),
            "iter": guarded_iter,
            "property": property,
            "staticmethod": staticmethod,
            "classmethod": classmethod,
            "getattr": self.getattr_,
            "setattr": self.setattr_,
            "hasattr": self.hasattr_,
            "type": self.type_,
            "super": super,
        }

    def builtins_table(self) -> dict[str, Any]:
        """The script's `__builtins__`: only the names the policy lists, guarded ones in place of the real."""
        special = self.special_builtins()
        safe_builtins: dict[str, Any] = {"__build_class__": __builtins__["__build_class__"]
                                         if isinstance(__builtins__, dict) else __builtins__.__build_class__}
        for name in self.ctx.policy.builtins:
            if name == "print":
                continue
            if name in special:
                safe_builtins[name] = special[name]
            elif name in GuardedBuiltins.PLAIN:
                safe_builtins[name] = GuardedBuiltins.PLAIN[name]
        safe_builtins["__import__"] = _c_level_import  # scripts cannot name it; C code in datetime needs it
        self.register_type_values(safe_builtins)
        return safe_builtins

    def register_type_values(self, safe_builtins: dict[str, Any]) -> None:
        """Remember which builtin types the script can name, so `type(x)` hands back the same value."""
        type_values = self.ctx.type_values
        for value in safe_builtins.values():
            if type(value) is GuardedCallable and isinstance(value._kg_wrapped, type):
                type_values[value._kg_wrapped] = value
            elif isinstance(value, type) and value is not super:
                type_values[value] = value

    def build_globals(self) -> dict[str, Any]:
        """The job script's globals: its builtins, the hooks RestrictedPython's rewrites call, and `stage`."""
        ctx = self.ctx
        alloc = ctx.alloc
        safe_builtins = self.builtins_table()
        g: dict[str, Any] = {
            "__builtins__": safe_builtins,
            "__name__": SCRIPT_MODULE,
            "__metaclass__": self.build_class,
            "_getattr_": self._getattr_,
            "_getitem_": self._getitem_,
            "_write_": self._write_,
            "_getiter_": iter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_inplacevar_": alloc.inplace,
            "_apply_": _apply,
            "_print_": _make_print_collector(ctx.out),
            "_tick_": iter(range(TICK_INTERVAL)).__next__,
            "_tick_stop_": StopIteration,
            "_tick_refill_": self._tick_refill_,
            "_tickx_": self._tickx_,
            "_aug_item_": self._aug_item_,
            "_aug_attr_": self._aug_attr_,
            "_mul_": alloc.mul,
            "_add_": alloc.add,
            "_pow_": alloc.pow,
            "_lshift_": alloc.lshift,
            "_mod_": alloc.mod,
            "_format_": _format_value,
            "_import_": self.import_,
            "_import_from_": self.import_from,
            "_track_gen_": self.track_generator,
            "_match_class_": self.match_class,
            "_match_values_": SimpleNamespace,
            "stage": ctx.stage,
        }
        self.globals_ref.append(g)
        return g


def _make_print_collector(out: _Output) -> type:
    """RestrictedPython's `print` target class for one job, writing into that job's capped buffer."""

    class PrintCollector:
        """RestrictedPython's print target, writing into the job's capped buffer."""

        def __init__(self, _getattr_: Any = None) -> None:
            pass

        def write(self, text: str) -> None:
            out.write(text)

        def __call__(self) -> str:
            return out.text()

        def _call_print(self, *objects: Any, **kwargs: Any) -> None:
            if kwargs.get("file") is not None:
                raise SandboxDenied("print(file=...) is not available; print to standard output")
            kwargs["file"] = self
            print(*objects, **kwargs)
            if out.live is not None:
                out.live.tick()  # one whole print() is passed on live, never half a line

    return PrintCollector


class _SequenceWriter:
    """Item writes on a script's list/bytearray; `x[len(x):] = x` is checked like `x.extend(x)`."""

    __slots__ = ("_obj", "_alloc")

    def __init__(self, obj: Any, alloc: Allocation) -> None:
        self._obj = obj
        self._alloc = alloc

    def __setitem__(self, key: Any, value: Any) -> None:
        if type(key) is slice:
            into = bytearray if type(self._obj) is bytearray else list
            value = bounded_items(self._alloc, "slice assignment", len(self._obj), value, into)
        self._obj[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._obj[key]


def _apply(f: Any, *args: Any, **kwargs: Any) -> Any:
    return f(*args, **kwargs)


def _format_value(value: Any, spec: str, conversion: int) -> str:
    if conversion == ord("r"):
        value = repr(value)
    elif conversion == ord("s"):
        value = str(value)
    elif conversion == ord("a"):
        value = ascii(value)
    return guarded_format(value, spec)


_C_IMPORTS = frozenset({"time", "_strptime"})
# plain containers from the vetted stdlib: item writes are the script's own business, like dict's
_STD_CONTAINERS = frozenset({collections.OrderedDict, collections.defaultdict, collections.Counter})


def _c_level_import(name: str, *args: Any, **kwargs: Any) -> ModuleType:
    """`datetime.strftime/strptime` import `time`/`_strptime` from C through the current builtins'
    `__import__`. Scripts cannot name `__import__` (the compiler refuses it), so this only serves C code,
    and only those two modules."""
    if name not in _C_IMPORTS and not numpy_surface.owns(name):  # numpy's C code imports its own helpers
        raise ImportError(f"import of {name!r} is not available")
    import importlib

    return importlib.import_module(name)


_SELF_MATCHING = frozenset({bool, bytearray, bytes, dict, float, frozenset, int, list, set, str, tuple})


def _unwrap_types(classes: Any) -> Any:
    if isinstance(classes, GuardedCallable):
        return classes._kg_wrapped
    if isinstance(classes, TypeView):
        return classes._kg_type
    if type(classes) is tuple:
        return tuple(_unwrap_types(c) for c in classes)
    return classes


# --- result conversion (runs inside the job, under the result cap) --------------------------------

class _Budget:
    __slots__ = ("left", "cap")

    def __init__(self, cap: int) -> None:
        self.left = cap
        self.cap = cap

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise LimitExceeded("result", f"the result is larger than {self.cap} bytes")


def _describe_pxr(value: Any, t: type, mod: str) -> Any:
    short = f"{mod[4:]}.{t.__name__}"
    if t.__name__.endswith("Result") and t.__name__.startswith("_"):
        return bool(value)  # Tf annotated bool results (IsValidPathString, CanApply)
    if mod == "pxr.Usd":
        if t.__name__ in ("Prim", "Attribute", "Relationship", "Property", "Object"):
            return {"type": short, "path": str(value.GetPath())}
        if t.__name__ == "Stage":
            return {"type": short}
        if t.__name__ == "TimeCode":
            return "default" if value.IsDefault() else float(value.GetValue())
    if mod == "pxr.Sdf" and t.__name__ == "Layer":
        return {"type": short, "anonymous": bool(value.anonymous)}
    if mod == "pxr.Vt" and t.__name__.endswith("Array"):
        return None  # handled by the caller as a list
    if hasattr(value, "GetPrim") and mod.startswith("pxr.Usd"):
        try:
            return {"type": short, "path": str(value.GetPath())}
        except Exception:
            return {"type": short}
    if mod in ("pxr.Sdf", "pxr.Gf", "pxr.Tf") or "Enum" in [c.__name__ for c in t.__mro__]:
        return str(value)
    return {"type": short}


def to_json(value: Any, cap: int, script_classes: set[type]) -> Any:
    budget = _Budget(cap)

    def conv(v: Any, depth: int) -> Any:
        if depth > 64:
            raise LimitExceeded("result", "the result is nested more than 64 levels deep")
        t = type(v)
        if v is None or t is bool:
            budget.spend(5)
            return v
        if t is int:
            if v.bit_length() > 256:
                budget.spend(64)
                return str(v)[:60] + "..." if v.bit_length() > 4000 else str(v)
            budget.spend(8)
            return v
        if t is float:
            budget.spend(8)
            return v if math.isfinite(v) else str(v)
        if t is str:
            budget.spend(len(v) + 2)
            return v
        if t in (list, tuple, set, frozenset):
            budget.spend(2)
            items = sorted(v, key=repr) if t in (set, frozenset) and all(
                type(x) in (int, float, str) for x in v) else v
            return [conv(x, depth + 1) for x in items]
        if t is dict:
            budget.spend(2)
            res: dict[str, Any] = {}
            for k, x in v.items():
                if type(k) is str:
                    key = k
                elif type(k) in (int, float, bool) or k is None:
                    key = str(k)
                else:
                    raise TypeError(f"result dict keys must be strings, not {t.__name__}")
                budget.spend(len(key) + 4)
                res[key] = conv(x, depth + 1)
            return res
        if t in (bytes, bytearray):
            budget.spend(len(v) * 2 + 2)
            return v.hex()
        if t in script_classes or isinstance(v, BaseException):
            budget.spend(32)
            return {"type": t.__name__}
        mod = getattr(t, "__module__", "") or ""
        if mod.startswith("pxr."):
            if mod == "pxr.Vt" and t.__name__.endswith("Array"):
                budget.spend(2)
                out = []
                for x in v:
                    out.append(conv(x, depth + 1))
                return out
            desc = _describe_pxr(v, t, mod)
            budget.spend(len(str(desc)) + 2)
            return desc
        if t is ModuleProxy:
            return {"type": "module"}
        budget.spend(32)
        return {"type": t.__name__}

    return conv(value, 0)


# --- errors ----------------------------------------------------------------------------------------

def _user_line(exc: BaseException) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _error(exc: BaseException) -> dict[str, Any]:
    t = type(exc)
    name = t.__name__
    if t.__module__.startswith("pxr"):
        name = f"{t.__module__[4:]}.{name}"
    if isinstance(exc, LimitExceeded):
        message = exc.message
        name = "LimitExceeded"
    else:
        try:
            message = str(exc)  # a script __str__ runs here, while the job is still open and ticking
        except BaseException:  # noqa: BLE001 - a limit tripped inside __str__ must not lose the error
            message = f"{name} (its message could not be computed)"
    return {"type": name, "message": message[:MAX_ERROR_MESSAGE], "line": _user_line(exc)}


# --- entry point -------------------------------------------------------------------------------------

def _edit_target(stage: Any) -> Any:
    try:
        return stage.GetEditTarget() if stage is not None else None
    except Exception:
        return None


def _restore_edit_target(stage: Any, target: Any) -> None:
    """A job's SetEditTarget/EditContext ends with the job: in-process the stage is the host's, and its
    later edits (an operator's in Kit) must not land in the session layer the script switched to."""
    if target is None:
        return
    with contextlib.suppress(Exception):
        if stage.GetEditTarget() != target:
            stage.SetEditTarget(target)


def run_guarded(compiled: CompileResult, policy: Policy, stage: Any, *, deadline: float | None = None,
                rng_seed: int | None = None, live: ThrottledText | None = None) -> RunReport:
    """Run a compiled script under the policy's object/language guards. Never raises.

    ``deadline`` is a ``time.monotonic()`` timestamp; default: now + ``policy.limits.timeout_s``.
    ``live`` gets the printed text (within the output cap) while the script runs; flushed at the end.
    """
    started = time.perf_counter()
    try:
        report = _run(compiled, policy, stage, deadline, rng_seed, live)
    except BaseException as exc:  # noqa: BLE001 - run_guarded must never raise
        report = RunReport(status="failed", error={"type": "InternalError",
                                                   "message": f"sandbox failure ({type(exc).__name__})",
                                                   "line": None})
    report.run_ms = (time.perf_counter() - started) * 1000.0
    return report


def _run(compiled: CompileResult, policy: Policy, stage: Any, deadline: float | None,
         rng_seed: int | None, live: ThrottledText | None = None) -> RunReport:
    if not compiled.ok or compiled.code is None:
        return RunReport(status="failed", error={"type": "CompileError", "message": "the script was rejected at "
                                                 "compile time", "line": None})
    if compiled.policy_digest != policy.digest:
        return RunReport(status="failed", error={"type": "PolicyMismatch", "message": "the script was compiled "
                                                 "under a different policy", "line": None})
    if deadline is None:
        deadline = time.monotonic() + policy.limits.timeout_s
    ctx = JobContext(policy, stage, deadline, rng_seed, live)
    hooks = Hooks(ctx)
    g = hooks.build_globals()
    edit_target = _edit_target(stage)
    leave_job = stdlib.enter_job(policy)  # per-job interpreter state (the job's decimal context)
    status, error, limit, value = "succeeded", None, None, None
    trip_at_error: LimitExceeded | None = None
    try:
        exec(compiled.code, g)  # noqa: S102 - the code was compiled by the restricted compiler
        if ctx.tripped is not None:
            raise LimitExceeded(ctx.tripped.limit, ctx.tripped.message)
        raw = g.get(LAST_VALUE)
        if raw is None:
            raw = g.get("result")
        value = to_json(raw, policy.limits.result_bytes, ctx.script_classes)
    except LimitExceeded as exc:
        trip = ctx.tripped or exc
        limit = trip.limit if ctx.tripped is not None and exc.limit != "result" else exc.limit
        status = "timed_out" if limit == "timeout" else "failed"
        error = _error(exc)
        error["message"] = (trip.message if trip is not exc else exc.message)[:MAX_ERROR_MESSAGE]
    except RecursionError as exc:
        status, limit, error = "failed", "recursion", _error(exc)
    except MemoryError as exc:
        status, limit, error = "failed", "memory", _error(exc)
    except AssetDenied as exc:
        status, error = "failed", _error(exc)
        error["type"] = "AssetDenied"
    except Exception as exc:
        status, error = "failed", _error(exc)
        trip_at_error = ctx.tripped
    except BaseException as exc:  # noqa: BLE001 - SystemExit etc. from host code must not escape
        status, error = "failed", _error(exc)
    finally:
        ctx.closed = True
        steps = hooks.steps_taken()
        with contextlib.suppress(BaseException):
            g.clear()  # drop script objects now, while every hook refuses to act
        with contextlib.suppress(BaseException):
            hooks.close_generators()  # every hook refuses, globals are gone; native `with` exits still run
        _restore_edit_target(stage, edit_target)
        leave_job()
        if live is not None:
            live.flush()  # the last throttled text, before the result
    if status == "failed" and limit is None and trip_at_error is not None:
        # a limit tripped while the error message was computed (a script __str__ that never returns)
        limit = trip_at_error.limit
        status = "timed_out" if limit == "timeout" else "failed"
    if status == "succeeded" and ctx.out.truncated:
        limit = "output"
    return RunReport(status=status, stdout=ctx.out.text(), stdout_truncated=ctx.out.truncated, value=value,
                     error=error, limit=limit, steps=steps)
