"""Names: what a script may call its own things, and which dunders it may define or read.

Why its own module: the transformer refuses names with these rules and the runtime reads the same
lists when it decides attribute access, so both import them from one place.
"""

from __future__ import annotations

# Special methods a script class may define. Each runs only when script code (or a C builtin the script
# called) uses the object, inside the job and under its ticks; the host never calls them (results are
# converted to JSON in the job; error messages are computed before the job closes). Left out, because
# they run at a time or place the script does not control, or defeat a size guard: __del__ (after the
# job), __init_subclass__/__class_getitem__/__set_name__/__mro_entries__/__prepare__ (class-creation
# hooks), __getattr__/__getattribute__/__setattr__/__delattr__/__get__/__set__ (attribute interception),
# __reduce__/__reduce_ex__/__getstate__/__setstate__/__copy__/__deepcopy__ (copy/pickle protocol),
# __index__/__length_hint__ (C code trusts them for sizes), __new__, __format__, __instancecheck__.
DEFINABLE_DUNDERS = frozenset({
    "__init__", "__post_init__", "__repr__", "__str__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__",
    "__ge__", "__hash__", "__bool__", "__len__", "__iter__", "__next__", "__reversed__", "__contains__",
    "__getitem__", "__setitem__", "__delitem__", "__enter__", "__exit__", "__call__", "__add__", "__radd__",
    "__iadd__", "__sub__", "__rsub__", "__isub__", "__mul__", "__rmul__", "__imul__", "__truediv__",
    "__rtruediv__", "__itruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__",
    "__rpow__", "__matmul__", "__rmatmul__", "__neg__", "__pos__", "__abs__", "__invert__", "__and__",
    "__rand__", "__or__", "__ror__", "__xor__", "__rxor__", "__float__", "__int__", "__round__",
    "__slots__", "__match_args__",
})
# Dunders any object may be asked for: a name, a docstring, and the object's type (a guarded view).
READABLE_DUNDERS = frozenset({"__name__", "__qualname__", "__doc__", "__class__"})
# RestrictedPython's own helper names that do not follow the `_x_` pattern.
_RESERVED_NAMES = frozenset({"_print", "printed", "_kg"})


def name_problem(name: str, *, method: bool = False, load: bool = False) -> str | None:
    """Why `name` may not be a script variable/function/attribute name, or None.

    `_x` and `__x` are the script's own business. `_x_` is the sandbox's: every hook RestrictedPython and
    kitgate call (`_getattr_`, `_write_`, `_tick_`...) ends with an underscore, so the pattern keeps them
    out of reach whatever names are added later. Dunders are the language's: only the allow-lists above.
    """
    if name == "_" or not name.startswith("_"):
        return None
    if name in _RESERVED_NAMES or name.startswith("_kg"):
        return f'"{name}" is reserved for the sandbox'
    if name.startswith("__") and name.endswith("__") and len(name) > 4:
        if (method and name in DEFINABLE_DUNDERS) or (load and name in READABLE_DUNDERS):
            return None
        return f'"{name}" is a special name scripts may not use here'
    if name.endswith("_"):
        return f'"{name}" is reserved for the sandbox (names of the form _x_ are its hooks)'
    return None


def mangle(cls_name: str | None, attr: str) -> str:
    """Python's private-name mangling, which RestrictedPython's string attribute names would skip."""
    if cls_name is None or not attr.startswith("__") or attr.endswith("__"):
        return attr
    stripped = cls_name.lstrip("_")
    return f"_{stripped}{attr}" if stripped else attr
