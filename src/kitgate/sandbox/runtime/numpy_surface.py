"""The vetted numpy surface: guarded stand-ins for the numpy names a policy lists.

Why this exists: Kit ships numpy and agents write `np.array(points)`, `pts.mean(axis=0)`,
`np.linalg.norm(v)`, `rng.normal(size=n)` and hand the result to `Vt.Vec3fArray.FromNumpy`. numpy is
also a door to raw memory and to the interpreter, so nothing of it is reachable by default:

- only the names below (VETTED_NAMES, VETTED_TYPE_ATTRIBUTES) can be listed by a policy; the loader
  refuses any other numpy name or submodule (`load`/`save`/`fromfile`/`frombuffer`, `ctypeslib`,
  `lib.stride_tricks.as_strided`, `vectorize`/`frompyfunc`/`apply_along_axis`, `seterr`/
  `set_printoptions`, `testing`, `f2py`, `char`, `rec`, `memmap`...), and an ndarray exposes only its
  listed attributes (never `ctypes`, `data`, `base`, `tofile`, `dump(s)`, `view`, `__array_interface__`);
- every function is a wrapper: `dtype=` (positional or keyword) must be bool, integer, float or complex
  (object arrays hold arbitrary Python objects and bypass every guard; void/structured dtypes are raw
  bytes; strings are refused too, they stay in Python lists), and every array a call returns is checked
  again, so an object array that numpy infers itself (`np.array([1, None])`) never reaches the script;
- calls whose result can be larger than their inputs (`zeros(shape)`, `arange`, `linspace(num=)`, `tile`,
  `repeat`, `outer`, `kron`, `meshgrid`, `broadcast_to`, `einsum`, `pad`, `diag`, `bincount`, `dot`/
  `matmul`, broadcasting ufuncs, `svd`/`qr` full matrices, `rng.*(size=)`) are sized before they run,
  against one array's byte budget (a quarter of the job's memory), like the Vt array constructors;
- `np.random.default_rng(seed)` returns a sandbox Generator with the sampling methods only (no
  `bit_generator`, no state);
- numpy is isolated-only (policy.ISOLATED_ONLY_MODULES): a matmul or an eig runs inside one C call that
  only the isolated child's CPU limit and kill can stop, and operators (`a[:, None] - b`) broadcast
  without a hook, bounded by the child's address-space limit (numpy raises MemoryError cleanly).
"""

from __future__ import annotations

import math
import operator
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kitgate.sandbox.runtime.guards import LimitExceeded, SandboxDenied

if TYPE_CHECKING:
    from kitgate.sandbox.runtime.hooks import JobContext

NUMPY_MODULES = frozenset({"numpy", "numpy.linalg", "numpy.random"})
ARRAY_SHARE = 4  # one array may use a quarter of the job's memory (Allocation.max_items is memory/16 bytes)
MAX_EINSUM_LOOP = 2 * 10**9  # index-space iterations of one einsum (time, not memory)
ALLOWED_KINDS = frozenset("biufc")  # bool, signed, unsigned, float, complex

# --- what a policy may list -----------------------------------------------------------------------

DTYPE_NAMES = frozenset({"bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                         "float16", "float32", "float64", "complex64", "complex128", "intp", "double", "single"})
CONSTANTS = frozenset({"pi", "e", "inf", "nan", "newaxis", "euler_gamma"})
# elementwise ufuncs: the result has the broadcast shape of the arguments (checked first)
UFUNCS = frozenset({
    "add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "power", "mod", "remainder", "fmod",
    "negative", "reciprocal", "absolute", "abs", "fabs", "sign", "sqrt", "cbrt", "square", "exp", "exp2", "expm1",
    "log", "log2", "log10", "log1p", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh",
    "tanh", "arcsinh", "arccosh", "arctanh", "degrees", "radians", "deg2rad", "rad2deg", "hypot", "floor", "ceil",
    "trunc", "rint", "maximum", "minimum", "fmax", "fmin", "isnan", "isinf", "isfinite", "greater",
    "greater_equal", "less", "less_equal", "equal", "not_equal", "logical_and", "logical_or", "logical_not",
    "logical_xor", "copysign",
})
# elementwise helpers that are not ufuncs but broadcast their arguments the same way
BROADCASTING = frozenset({"where", "clip", "isclose", "round", "around", "cross", "nan_to_num", "interp"})
# results no larger than their input (reductions, sorting, shape changes, comparisons)
NO_GROWTH = frozenset({
    "array", "asarray", "copy", "sum", "prod", "mean", "median", "average", "std", "var", "min", "max", "amin",
    "amax", "argmin", "argmax", "cumsum", "cumprod", "ptp", "nansum", "nanmean", "nanmin", "nanmax", "nanstd",
    "all", "any", "allclose", "array_equal", "count_nonzero", "nonzero", "argwhere", "flatnonzero", "sort",
    "argsort", "unique", "searchsorted", "digitize", "diff", "gradient", "trace", "reshape", "ravel", "transpose",
    "swapaxes", "moveaxis", "squeeze", "expand_dims", "flip", "fliplr", "flipud", "roll", "rot90", "atleast_1d",
    "atleast_2d", "atleast_3d", "split", "array_split", "shape", "ndim", "size", "isscalar", "tril", "triu",
})
JOINING = frozenset({"stack", "concatenate", "vstack", "hstack", "column_stack", "dstack"})
SHAPED = frozenset({"zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "eye", "identity", "arange",
                    "linspace", "logspace", "geomspace"})
GROWING = frozenset({"tile", "repeat", "outer", "kron", "meshgrid", "broadcast_to", "einsum", "pad", "diag",
                     "bincount", "histogram", "dot", "matmul", "inner", "percentile", "quantile"})
LINALG = frozenset({"norm", "inv", "det", "solve", "eig", "eigh", "eigvals", "eigvalsh", "svd", "qr", "pinv",
                    "matrix_rank", "lstsq", "cholesky", "slogdet", "cond", "matrix_power"})
RANDOM = frozenset({"default_rng"})
GENERATOR_METHODS = frozenset({"random", "uniform", "normal", "integers", "choice", "shuffle", "permutation",
                               "standard_normal", "exponential", "poisson", "binomial", "beta", "gamma",
                               "lognormal", "triangular"})

VETTED_NAMES: dict[str, frozenset[str]] = {
    "numpy": (DTYPE_NAMES | CONSTANTS | UFUNCS | BROADCASTING | NO_GROWTH | JOINING | SHAPED | GROWING
              | frozenset({"ndarray"})),
    "numpy.linalg": LINALG | frozenset({"LinAlgError"}),
    "numpy.random": RANDOM,
}
# Attributes a policy may allow on numpy types. Left out on purpose: ctypes, data, base, flags, strides,
# __array_interface__, tofile, tobytes, dump, dumps, view, getfield, setfield, byteswap, newbyteorder,
# resize (in place, reallocates), put/itemset, choose, flat (an iterator type with its own surface).
NDARRAY_ATTRIBUTES = frozenset({
    "shape", "dtype", "ndim", "size", "nbytes", "itemsize", "T", "real", "imag", "tolist", "item", "astype",
    "copy", "reshape", "flatten", "ravel", "transpose", "swapaxes", "squeeze", "sum", "prod", "mean", "std",
    "var", "min", "max", "argmin", "argmax", "argsort", "sort", "cumsum", "cumprod", "clip", "round", "dot",
    "any", "all", "nonzero", "fill", "trace", "diagonal", "conj", "conjugate", "repeat", "searchsorted",
})
SCALAR_ATTRIBUTES = frozenset({"item", "tolist", "real", "imag", "dtype", "shape", "ndim", "is_integer"})
DTYPE_ATTRIBUTES = frozenset({"name", "kind", "itemsize", "char"})
VETTED_TYPE_ATTRIBUTES: dict[str, frozenset[str]] = {
    "numpy.ndarray": NDARRAY_ATTRIBUTES,
    "numpy.generic": SCALAR_ATTRIBUTES,
    "numpy.dtype": DTYPE_ATTRIBUTES,
}


def owns(module: str) -> bool:
    return module == "numpy" or module.startswith("numpy.")


def vetted_names(module: str) -> frozenset[str] | None:
    """The names a policy may list for a numpy module; an empty set for any other numpy submodule."""
    if not owns(module):
        return None
    return VETTED_NAMES.get(module, frozenset())


def vetted_type_attributes(qual: str) -> frozenset[str] | None:
    if not owns(qual):
        return None
    return VETTED_TYPE_ATTRIBUTES.get(qual, frozenset())


def installed() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("numpy") is not None
    except (ImportError, ValueError):
        return False


def import_numpy() -> Any:
    """numpy with one BLAS thread: isolated children run with RLIMIT_NPROC 0 (no threads), and a job must
    not fan out over the worker's cores."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    import numpy

    return numpy


# --- checks -----------------------------------------------------------------------------------------

def _cap(ctx: JobContext) -> int:
    return ctx.alloc.max_items * 16 // ARRAY_SHARE


def _need(ctx: JobContext, what: str, elements: Any, itemsize: int = 8) -> None:
    if isinstance(elements, float) and not math.isfinite(elements):
        raise LimitExceeded("memory", f"{what} would create an unbounded array")
    n = int(elements) * itemsize
    cap = _cap(ctx)
    if n > cap:
        raise LimitExceeded("memory", f"{what} would allocate {n} bytes ({int(elements)} elements); one array may "
                                      f"use at most {cap} bytes. Work on smaller arrays or in chunks")


def _numel(shape: Any) -> int:
    if isinstance(shape, (tuple, list)):
        return math.prod(max(operator.index(s), 0) for s in shape)
    return max(operator.index(shape), 0)


def _size(np: Any, x: Any) -> int:
    return int(x.size) if type(x) is np.ndarray else int(np.size(x))


def _unwrap(x: Any) -> Any:
    from kitgate.sandbox.runtime.proxies import GuardedCallable

    return x._kg_wrapped if type(x) is GuardedCallable else x


def check_dtype(np: Any, dtype: Any) -> int:
    """Refuse every dtype but bool/int/uint/float/complex; return the itemsize (8 when unknown)."""
    if dtype is None:
        return 8
    dtype = _unwrap(dtype)
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise SandboxDenied(f"dtype {dtype!r} is not available: use bool, int, float, complex or a numpy number "
                            "type such as np.float32") from None
    if d.kind not in ALLOWED_KINDS or d.fields is not None or d.subdtype is not None:
        raise SandboxDenied(f"dtype {d.str!r} is not available in the sandbox: numpy arrays hold bool, integer, "
                            "float or complex numbers (object arrays bypass the guards, void/structured dtypes "
                            "are raw bytes); keep text and objects in Python lists")
    return max(int(d.itemsize), 1)


_REFUSED_KWARGS = frozenset({"like", "buffer", "offset", "strides"})


def _check_kwargs(np: Any, kwargs: dict[str, Any]) -> int:
    bad = _REFUSED_KWARGS & set(kwargs)
    if bad:
        raise SandboxDenied(f"numpy argument(s) {', '.join(sorted(bad))} are not available in the sandbox")
    return check_dtype(np, kwargs["dtype"]) if "dtype" in kwargs else 8


def checked_result(ctx: JobContext, np: Any, value: Any, what: str, depth: int = 0) -> Any:
    """What a numpy call may hand back: plain ndarrays of vetted dtypes within the byte budget, numpy
    numbers, Python scalars, and tuples/lists of those (result namedtuples become plain tuples)."""
    t = type(value)
    if t is np.ndarray:
        if value.dtype.kind not in ALLOWED_KINDS or value.dtype.fields is not None:
            raise SandboxDenied(f"{what} produced an array of dtype {value.dtype.str!r}, which the sandbox does not "
                                "hand out (numbers and bools only; mixed or None values give object arrays)")
        _need(ctx, what, value.size, value.itemsize)
        return value
    if value is None or t in (bool, int, float, complex, str):
        return value
    if isinstance(value, (np.number, np.bool_)):
        return value
    if isinstance(value, (np.str_, np.bytes_)):
        return value  # a str/bytes subclass (rng.choice over a list of names)
    if isinstance(value, tuple) and depth < 3:
        return tuple(checked_result(ctx, np, v, what, depth + 1) for v in value)
    if t is list and depth < 3:
        return [checked_result(ctx, np, v, what, depth + 1) for v in value]
    if isinstance(value, np.ndarray):
        raise SandboxDenied(f"{what} produced a {t.__name__} (an ndarray subclass); use plain arrays")
    raise SandboxDenied(f"{what} produced a {t.__name__}, which the sandbox does not hand out")


# --- size estimates for the calls that can grow ---------------------------------------------------

def _shape_of(np: Any, x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if type(x) is np.ndarray else tuple(np.shape(x))


def _broadcast_size(np: Any, args: tuple[Any, ...]) -> int:
    shapes = [_shape_of(np, a) for a in args if not isinstance(a, (str, type(None)))]
    if not shapes:
        return 1
    try:
        return _numel(np.broadcast_shapes(*shapes))
    except ValueError:
        return 0  # numpy raises its own error when the call runs


def _arange_count(args: tuple[Any, ...], kwargs: dict[str, Any]) -> float:
    names = ("start", "stop", "step")
    vals = dict(zip(names, args if len(args) != 1 else (0, args[0]), strict=False))
    vals.update({k: kwargs[k] for k in names if k in kwargs})
    start, stop, step = vals.get("start", 0), vals.get("stop"), vals.get("step", 1)
    if stop is None:
        start, stop = 0, start
    try:
        if step == 0:
            return 0
        return max(math.ceil((float(stop) - float(start)) / float(step)), 0)
    except (TypeError, ValueError, OverflowError):
        return math.inf


def _einsum_size(np: Any, subscripts: Any, operands: tuple[Any, ...]) -> tuple[int, int]:
    """(output elements, index-space iterations) of an explicit or implicit einsum."""
    if not isinstance(subscripts, str):
        raise SandboxDenied("np.einsum takes its subscripts as a string first, e.g. np.einsum('ij,jk->ik', a, b)")
    if "." in subscripts:
        raise SandboxDenied("np.einsum with '...' is not available; write every index out")
    spec = subscripts.replace(" ", "")
    inputs, _, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        return 0, 0  # numpy reports the mismatch
    sizes: dict[str, int] = {}
    for term, op in zip(terms, operands, strict=True):
        for letter, n in zip(term, _shape_of(np, op), strict=False):
            sizes[letter] = max(sizes.get(letter, 1), int(n))
    if "->" not in spec:
        output = "".join(sorted(c for c in set(inputs) if c.isalpha() and inputs.count(c) == 1))
    out = math.prod(sizes.get(c, 1) for c in output)
    loop = math.prod(sizes.values()) if sizes else 1
    return out, loop


def _product_size(np: Any, name: str, a: Any, b: Any) -> int:
    """Upper bound of dot/matmul/inner output elements."""
    sa, sb = _shape_of(np, a), _shape_of(np, b)
    if not sa or not sb:
        return max(_numel(sa), _numel(sb))
    if name == "inner":
        return _numel(sa[:-1]) * _numel(sb[:-1])
    k = sb[-2] if len(sb) >= 2 else sb[-1]
    left = _numel(sa[:-1])
    right = _numel(sb) // max(int(k), 1) if len(sb) >= 2 else 1
    return left * right


def _growing_size(ctx: JobContext, np: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    def arg(i: int, key: str, default: Any = None) -> Any:
        return args[i] if len(args) > i else kwargs.get(key, default)

    if name == "tile":
        reps = arg(1, "reps", 1)
        return _size(np, arg(0, "A")) * _numel(reps if isinstance(reps, (tuple, list)) else [reps])
    if name == "repeat":
        reps = np.asarray(arg(1, "repeats", 1))
        return _size(np, arg(0, "a")) * (int(reps.max()) if reps.size else 0)
    if name in ("outer", "kron"):
        return _size(np, arg(0, "a")) * _size(np, arg(1, "b"))
    if name == "meshgrid":
        sizes = [_size(np, x) for x in args]
        return sum(sizes) if kwargs.get("sparse") else math.prod(sizes) * len(sizes)
    if name == "broadcast_to":
        return _numel(arg(1, "shape", ()))
    if name == "einsum":
        out, loop = _einsum_size(np, args[0] if args else None, args[1:])
        if loop > MAX_EINSUM_LOOP:
            raise LimitExceeded("loop_iterations", f"np.einsum over {loop} index combinations (limit "
                                                   f"{MAX_EINSUM_LOOP}); contract in steps with np.dot/np.matmul")
        return out
    if name == "pad":
        a = arg(0, "array")
        shape = _shape_of(np, a)
        pw = np.broadcast_to(np.asarray(arg(1, "pad_width", 0), dtype=np.int64), (len(shape), 2))
        mode = arg(2, "mode", "constant")
        if not isinstance(mode, str):
            raise SandboxDenied("np.pad takes a mode name ('constant', 'edge', 'reflect', ...), not a function")
        return math.prod(int(n) + int(p.sum()) for n, p in zip(shape, pw, strict=True))
    if name == "diag":
        v = arg(0, "v")
        if np.ndim(v) == 1:
            return (_size(np, v) + abs(operator.index(arg(1, "k", 0)))) ** 2
        return _size(np, v)
    if name == "bincount":
        x = np.asarray(arg(0, "x"))
        top = int(x.max()) + 1 if x.size else 0
        return max(top, operator.index(arg(2, "minlength", 0) or 0))
    if name == "histogram":
        bins = arg(1, "bins", 10)
        return operator.index(bins) if isinstance(bins, int) or type(bins).__module__ == "numpy" and np.ndim(
            bins) == 0 else _size(np, bins)
    if name in ("dot", "matmul", "inner"):
        return _product_size(np, name, arg(0, "a"), arg(1, "b"))
    if name in ("percentile", "quantile"):
        a, q, axis = arg(0, "a"), arg(1, "q"), arg(2, "axis")
        rest = 1 if axis is None else _size(np, a) // max(_numel([_shape_of(np, a)[i] for i in (
            axis if isinstance(axis, tuple) else (axis,))]), 1)
        return _size(np, q) * rest
    return 0


def _shaped_size(np: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> float:
    def arg(i: int, key: str, default: Any = None) -> Any:
        return args[i] if len(args) > i else kwargs.get(key, default)

    if name in ("zeros", "ones", "full"):
        return _numel(arg(0, "shape", ()))
    if name in ("zeros_like", "ones_like", "full_like"):
        shape = kwargs.get("shape")
        return _numel(shape) if shape is not None else _size(np, arg(0, "a"))
    if name == "eye":
        n = operator.index(arg(0, "N"))
        m = arg(1, "M")
        return max(n, 0) * max(operator.index(m) if m is not None else n, 0)
    if name == "identity":
        n = operator.index(arg(0, "n"))
        return max(n, 0) ** 2
    if name == "arange":
        return _arange_count(args, kwargs)
    if name in ("linspace", "logspace", "geomspace"):
        num = operator.index(arg(2, "num", 50))
        return max(num, 0) * max(_size(np, arg(0, "start")), _size(np, arg(1, "stop")), 1)
    return 0


# positional index of a dtype argument, where numpy takes one positionally
_POSITIONAL_DTYPE = {"zeros": 1, "ones": 1, "full": 2, "array": 1, "asarray": 1, "identity": 1, "zeros_like": 1,
                     "ones_like": 1, "full_like": 2, "sum": 2, "mean": 2, "cumsum": 2, "prod": 2, "cumprod": 2}


def _function(ctx: JobContext, np: Any, name: str, real: Callable[..., Any], qual: str) -> Callable[..., Any]:
    """The wrapper a script gets for numpy.<name>."""

    def call(*args: Any, **kwargs: Any) -> Any:
        itemsize = _check_kwargs(np, kwargs)
        pos = _POSITIONAL_DTYPE.get(name)
        if pos is not None and len(args) > pos:
            itemsize = check_dtype(np, args[pos])
            args = (*args[:pos], _unwrap(args[pos]), *args[pos + 1:])
        if "dtype" in kwargs:
            kwargs["dtype"] = _unwrap(kwargs["dtype"])
        if name in SHAPED:
            _need(ctx, qual, _shaped_size(np, name, args, kwargs), itemsize)
        elif name in GROWING:
            _need(ctx, qual, _growing_size(ctx, np, name, args, kwargs), max(itemsize, 8))
        elif name in UFUNCS or name in BROADCASTING:
            if "out" in kwargs and type(kwargs["out"]) not in (np.ndarray, tuple):
                raise SandboxDenied(f"{qual}(out=...) takes an array")
            _need(ctx, qual, _broadcast_size(np, args), max(itemsize, 8))
        elif name in JOINING:
            seq = args[0] if args else kwargs.get("arrays", ())
            _need(ctx, qual, sum(_size(np, a) for a in seq), max(itemsize, 8))
        return checked_result(ctx, np, real(*args, **kwargs), qual)

    call.__name__ = name
    call.__qualname__ = qual
    call.__doc__ = f"{qual} (sandboxed)"
    return call


def _linalg(ctx: JobContext, np: Any, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
    qual = f"np.linalg.{name}"

    def call(*args: Any, **kwargs: Any) -> Any:
        _check_kwargs(np, kwargs)
        if name in ("svd", "qr") and args:
            shape = _shape_of(np, args[0])
            full = kwargs.get("full_matrices", True) if name == "svd" else kwargs.get(
                "mode", args[1] if len(args) > 1 else "reduced") == "complete"
            if full and len(shape) >= 2:
                batch = _numel(shape[:-2])
                _need(ctx, qual, batch * (shape[-2] ** 2 + shape[-1] ** 2), 16)
        return checked_result(ctx, np, real(*args, **kwargs), qual)

    call.__name__ = name
    call.__qualname__ = qual
    return call


class Generator:
    """np.random.default_rng(seed) for scripts: sampling methods with their `size` checked first."""

    __slots__ = ("_kg_rng", "_kg_ctx", "_kg_np")
    _kg_public = GENERATOR_METHODS

    def __init__(self, ctx: JobContext, np: Any, seed: Any) -> None:
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise SandboxDenied("np.random.default_rng(seed) takes an integer seed or nothing")
        self._kg_rng = np.random.default_rng(seed)
        self._kg_ctx = ctx
        self._kg_np = np

    def __repr__(self) -> str:
        return "Generator(PCG64) (sandboxed)"

    def _draw(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], size_at: int) -> Any:
        np, ctx = self._kg_np, self._kg_ctx
        itemsize = _check_kwargs(np, kwargs)
        size = args[size_at] if len(args) > size_at else kwargs.get("size")
        if size is not None:
            _need(ctx, f"rng.{name}", _numel(size), itemsize)
        params = [a for i, a in enumerate(args) if i != size_at] + [v for k, v in kwargs.items() if k != "size"]
        _need(ctx, f"rng.{name}", _broadcast_size(np, tuple(p for p in params if not isinstance(p, bool))), itemsize)
        return checked_result(ctx, np, getattr(self._kg_rng, name)(*args, **kwargs), f"rng.{name}")

    def random(self, *args: Any, **kwargs: Any) -> Any:
        return self._draw("random", args, kwargs, 0)

    def standard_normal(self, *args: Any, **kwargs: Any) -> Any:
        return self._draw("standard_normal", args, kwargs, 0)

    def uniform(self, *args: Any, **kwargs: Any) -> Any:
        return self._draw("uniform", args, kwargs, 2)

    def normal(self, *args: Any, **kwargs: Any) -> Any:
        return self._draw("normal", args, kwargs, 2)

    def lognormal(self, *args: Any, **kwargs: Any) -> Any:
        return self._draw("lognormal", args, kwargs, 2)

    def integers(self, *args: Any, **kwargs: Any) -> Any:
        return self._draw("integers", args, kwargs, 2)

    def exponential(self, *args: Any, **kwargs: Any) -> Any:
        return self._draw("exponential", args, kwargs, 1)

    def poisson(self, *args: Any, **kwargs: Any) -> Any:
        return self._draw("poisson", args, kwargs, 1)

    def binomial(self, *args: Any, **kwargs: Any) -> Any:
        return self._draw("binomial", args, kwargs, 2)

    def beta(self, *args: Any, **kwargs: Any) -> Any:
        return self._draw("beta", args, kwargs, 2)

    def gamma(self, *args: Any, **kwargs: Any) -> Any:
        return self._draw("gamma", args, kwargs, 2)

    def triangular(self, *args: Any, **kwargs: Any) -> Any:
        return self._draw("triangular", args, kwargs, 3)

    def choice(self, a: Any, size: Any = None, replace: bool = True, p: Any = None, **kwargs: Any) -> Any:
        np, ctx = self._kg_np, self._kg_ctx
        if isinstance(a, (int, np.integer)):
            _need(ctx, "rng.choice", 0 if replace and p is None else int(a))
        if size is not None:
            _need(ctx, "rng.choice", _numel(size))
        out = self._kg_rng.choice(a, size, replace, p, **kwargs)
        return checked_result(ctx, np, out, "rng.choice")

    def shuffle(self, x: Any, axis: int = 0) -> None:
        if type(x) is not self._kg_np.ndarray and type(x) is not list:
            raise SandboxDenied("rng.shuffle shuffles an array or a list in place")
        self._kg_rng.shuffle(x, axis)

    def permutation(self, x: Any, axis: int = 0) -> Any:
        np, ctx = self._kg_np, self._kg_ctx
        if isinstance(x, (int, np.integer)):
            _need(ctx, "rng.permutation", int(x))
        return checked_result(ctx, np, self._kg_rng.permutation(x, axis), "rng.permutation")


def _refuse_ndarray(*args: Any, **kwargs: Any) -> Any:
    raise SandboxDenied("np.ndarray(...) builds arrays over raw or uninitialised memory; use np.zeros(shape), "
                        "np.array(values) or np.full(shape, value)")


def module_value(ctx: JobContext, module: str, name: str, value: Any) -> Any:
    """The value a script gets for `numpy[.sub].name` (already allowed by the policy)."""
    if ctx.policy.mode != "isolated":
        raise SandboxDenied("numpy is available in isolated policies only")
    np = import_numpy()
    if name not in VETTED_NAMES.get(module, frozenset()):
        raise SandboxDenied(f"{module}.{name} is not in the vetted numpy subset")
    if module == "numpy.random":
        return lambda seed=None: Generator(ctx, np, seed)
    if module == "numpy.linalg":
        return value if name == "LinAlgError" else _linalg(ctx, np, name, value)
    if name in DTYPE_NAMES or name in CONSTANTS:
        return value  # number types (np.float32(x) gives a number or a float32 array) and floats
    if name == "ndarray":
        from kitgate.sandbox.runtime.proxies import GuardedCallable

        return GuardedCallable(value, _refuse_ndarray, "np.ndarray")
    return _function(ctx, np, name, value, f"np.{name}")


# --- ndarray methods with a sized or dtype argument (runtime._decide looks these up) -------------------

def _astype(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
    np = import_numpy()

    def astype(dtype: Any, *args: Any, **kwargs: Any) -> Any:
        check_dtype(np, dtype)
        return obj.astype(_unwrap(dtype), *args, **kwargs)

    return astype


def _repeat(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
    np = import_numpy()

    def repeat(repeats: Any, axis: Any = None) -> Any:
        reps = np.asarray(repeats)
        _need(ctx, "ndarray.repeat", obj.size * (int(reps.max()) if reps.size else 0), obj.itemsize)
        return obj.repeat(repeats, axis)

    return repeat


def _reduction(ctx: JobContext, obj: Any, name: str) -> Callable[..., Any]:
    """sum/mean/prod/cumsum/... with a dtype argument: the dtype is checked."""
    np = import_numpy()
    method = getattr(obj, name)

    def reduce(*args: Any, **kwargs: Any) -> Any:
        _check_kwargs(np, kwargs)
        if len(args) > 1:
            check_dtype(np, args[1])
        return checked_result(ctx, np, method(*args, **kwargs), f"ndarray.{name}")

    return reduce


METHOD_GUARDS: dict[tuple[str, str], Callable[[Any, Any, str], Any]] = {
    ("numpy.ndarray", "astype"): _astype,
    ("numpy.ndarray", "repeat"): _repeat,
    **{("numpy.ndarray", n): _reduction for n in ("sum", "mean", "prod", "cumsum", "cumprod", "std", "var")},
}

__all__ = ["METHOD_GUARDS", "VETTED_NAMES", "VETTED_TYPE_ATTRIBUTES", "NUMPY_MODULES", "Generator", "check_dtype",
           "checked_result", "import_numpy", "installed", "module_value", "owns", "vetted_names",
           "vetted_type_attributes"]
