"""The restricted compiler: decode, measure, check, rewrite, then RestrictedPython.

Order matters. We decode the bytes ourselves (a coding cookie or a bidi control would make the
parser see something a reviewer does not), cap size, lines and nesting before the parser or the
compiler can blow their stacks, strip annotations (they carry no behaviour and RestrictedPython
rejects them), apply our own rules (forbidden names, imports per policy, syntax decisions), and
only then hand the tree to a RestrictedPython transformer subclass that also inserts our hooks
(step ticks in loops and functions, allocation guards on ``* ** << + %``, guarded f-string
formats, proxy imports and capture of the last expression). ``compile_source`` never raises.
"""

from __future__ import annotations

import ast
import builtins as _py_builtins
import hashlib
import io
import re
import threading
import tokenize
import unicodedata
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from types import CodeType
from typing import Any

from RestrictedPython import compile_restricted_exec
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, RestrictingNodeTransformer

from kitgate.sandbox import hints
from kitgate.sandbox.policy import FORBIDDEN_BUILTINS, Policy

FILENAME = "<script>"
LAST_VALUE = "_kg_last_"
MAX_VIOLATIONS = 50
CACHE_SIZE = 256

# One list for the policy loader (what a policy may never grant) and the compiler (what a script may never name).
FORBIDDEN_NAMES = FORBIDDEN_BUILTINS

_ALLOWED_NODES: frozenset[type] = frozenset(
    getattr(ast, n)
    for n in [
        "Module",
        "FunctionDef",
        "ClassDef",
        "Return",
        "Delete",
        "Assign",
        "AugAssign",
        "For",
        "While",
        "If",
        "With",
        "Raise",
        "Try",
        "Assert",
        "Import",
        "ImportFrom",
        "Global",
        "Expr",
        "Pass",
        "Break",
        "Continue",
        "BoolOp",
        "NamedExpr",
        "BinOp",
        "UnaryOp",
        "Lambda",
        "IfExp",
        "Dict",
        "Set",
        "ListComp",
        "SetComp",
        "DictComp",
        "GeneratorExp",
        "Yield",
        "YieldFrom",
        "Compare",
        "Call",
        "FormattedValue",
        "JoinedStr",
        "Constant",
        "Attribute",
        "Subscript",
        "Starred",
        "Name",
        "List",
        "Tuple",
        "Slice",
        "Load",
        "Store",
        "Del",
        "And",
        "Or",
        "Add",
        "Sub",
        "Mult",
        "MatMult",
        "Div",
        "Mod",
        "Pow",
        "LShift",
        "RShift",
        "BitOr",
        "BitXor",
        "BitAnd",
        "FloorDiv",
        "Invert",
        "Not",
        "UAdd",
        "USub",
        "Eq",
        "NotEq",
        "Lt",
        "LtE",
        "Gt",
        "GtE",
        "Is",
        "IsNot",
        "In",
        "NotIn",
        "comprehension",
        "ExceptHandler",
        "arguments",
        "arg",
        "keyword",
        "alias",
        "withitem",
        "Nonlocal",
        "Match",
        "match_case",
        "MatchValue",
        "MatchSingleton",
        "MatchSequence",
        "MatchMapping",
        "MatchClass",
        "MatchStar",
        "MatchAs",
        "MatchOr",
    ]
)
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_COOKIE_RE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.ASCII)
_RP_LINE_RE = re.compile(r"^Line (\d+|None): (.*)$", re.S)
_PY_BUILTIN_NAMES = frozenset(dir(_py_builtins))


@dataclass(frozen=True)
class Violation:
    line: int
    col: int
    rule: str
    message: str
    hint: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CompileResult:
    ok: bool
    violations: list[Violation]
    code_sha256: str
    policy_digest: str
    code: CodeType | None = field(default=None, repr=False, compare=False)


class _Collector:
    def __init__(self) -> None:
        self.items: list[Violation] = []
        self.seen: set[tuple[int, int, str, str]] = set()

    def add(self, line: int | None, col: int | None, rule: str, message: str, hint: str) -> None:
        key = (line or 0, col or 0, rule, message)
        if key in self.seen or len(self.items) >= MAX_VIOLATIONS:
            return
        self.seen.add(key)
        self.items.append(Violation(line or 1, col or 0, rule, message, hint))


# --- decoding -----------------------------------------------------------------------------------


def _decode(source: str | bytes, out: _Collector) -> str | None:
    if isinstance(source, (bytes, bytearray)):
        try:
            text = bytes(source).decode("utf-8", errors="strict")
        except UnicodeDecodeError as exc:
            line = bytes(source)[: exc.start].count(b"\n") + 1
            out.add(line, 0, "decode", "source is not valid UTF-8", "Send the script as UTF-8 text.")
            return None
    elif isinstance(source, str):
        text = source
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            out.add(1, 0, "decode", "source contains unpaired surrogates", "Send the script as UTF-8 text.")
            return None
    else:
        out.add(1, 0, "decode", "source must be text", "Send the script as UTF-8 text.")
        return None
    for lineno, line in enumerate(text.split("\n")[:2], start=1):
        if _COOKIE_RE.match(line):
            out.add(
                lineno,
                0,
                "coding-cookie",
                "PEP 263 coding declarations are not allowed",
                "Delete the `# coding: ...` line; scripts are always UTF-8.",
            )
    line, col = 1, 0
    for ch in text:
        if ch == "\n":
            line, col = line + 1, 0
            continue
        code = ord(ch)
        if (
            (code < 32 and ch not in "\t\r\f")
            or code == 127
            or ch in _BIDI
            or ch in "\u2028\u2029"
            or (code > 127 and unicodedata.category(ch) in ("Cf", "Cc", "Co", "Cs", "Zl", "Zp"))
        ):
            out.add(
                line,
                col,
                "control-char",
                f"control or bidirectional character U+{code:04X} is not allowed",
                "Remove invisible and bidirectional control characters (Trojan Source).",
            )
        col += 1
    return text


def _check_identifiers(text: str, out: _Collector) -> None:
    """The parser NFKC-normalises identifiers (`ｅｖａｌ` becomes `eval`); refuse non-ASCII names."""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.NAME and not tok.string.isascii():
                norm = unicodedata.normalize("NFKC", tok.string)
                out.add(
                    tok.start[0],
                    tok.start[1],
                    "non-ascii-identifier",
                    f"identifier {tok.string!r} is not ASCII (it would be read as {norm!r})",
                    "Use ASCII letters, digits and underscores in names; non-ASCII text belongs in strings.",
                )
            elif tok.type == tokenize.ERRORTOKEN and not tok.string.isascii() and not tok.string.isspace():
                out.add(
                    tok.start[0],
                    tok.start[1],
                    "non-ascii-identifier",
                    f"character {tok.string!r} is not valid here",
                    "Use ASCII letters, digits and underscores in names.",
                )
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return  # the parser reports it with a better message


def _ast_depth(tree: ast.AST, limit: int) -> tuple[int, ast.AST | None]:
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    deepest = 0
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if depth > limit:
                return depth, node
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest, None


# --- annotation stripping and our own rules -------------------------------------------------------


class _StripAnnotations(ast.NodeTransformer):
    """`x: T = v` -> `x = v`; `x: T` dropped; parameter and return annotations dropped.

    Annotations are never evaluated (that is how `get_type_hints` and forward references run code).
    A class body keeps its field annotations as *strings* (`{"x": "int"}`, what ``from __future__ import
    annotations`` would give), which is all ``dataclasses`` needs. ``from __future__`` imports are
    dropped: annotations are already strings and the other features are no-ops on Python 3.11.
    """

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST | None:
        return None if node.module == "__future__" and not node.level else node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        fields: list[tuple[str, str]] = []
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.simple:
                fields.append((stmt.target.id, ast.unparse(stmt.annotation)[:200]))
        node._kg_annotations = fields  # type: ignore[attr-defined]
        return self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST | None:
        if node.value is None:
            return None
        new = ast.Assign(targets=[node.target], value=node.value)
        ast.copy_location(new, node)
        return self.generic_visit(new)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.returns = None
        args = node.args
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if a is not None:
                a.annotation = None
        return self.generic_visit(node)

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        for fname in ("body", "orelse", "finalbody"):
            body = getattr(node, fname, None)
            if fname == "body" and isinstance(body, list) and not body and not isinstance(node, ast.Module):
                body.append(ast.copy_location(ast.Pass(), node))
        if isinstance(node, ast.ExceptHandler) and node.type is None:
            # a bare `except:` would also catch the sandbox's limit signal; make it `except Exception:`
            node.type = ast.copy_location(ast.Name(id="Exception", ctx=ast.Load()), node)
        return node


def _importable(policy: Policy, module: str) -> bool:
    if module in policy.modules:
        return True
    prefix = module + "."
    return any(m.startswith(prefix) for m in policy.modules)


def _from_import_ok(policy: Policy, module: str, name: str) -> bool:
    if f"{module}.{name}" in policy.modules:
        return True
    rule = policy.modules.get(module)
    return rule is not None and rule.allows(name)


class _Rules(ast.NodeVisitor):
    def __init__(self, policy: Policy, out: _Collector) -> None:
        self.policy = policy
        self.out = out
        self.assigned: set[str] = set()
        self.loads: list[ast.Name] = []
        self.allowed_modules = sorted(policy.modules)

    def _forbidden(self, node: ast.AST, name: str) -> None:
        if name in FORBIDDEN_NAMES:
            self.out.add(
                getattr(node, "lineno", 1),
                getattr(node, "col_offset", 0),
                "forbidden-name",
                f"`{name}` is not available in the sandbox",
                hints.FORBIDDEN_NAME_HINTS.get(name, "Use the public API of the allowed modules."),
            )

    def generic_visit(self, node: ast.AST) -> None:
        if type(node) not in _ALLOWED_NODES:
            name = type(node).__name__
            self.out.add(
                getattr(node, "lineno", 1),
                getattr(node, "col_offset", 0),
                "syntax-not-allowed",
                f"{name} is not allowed in sandboxed scripts",
                hints.NODE_HINTS.get(name, "Rewrite this with plain statements, functions and loops."),
            )
            return
        super().generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        self._forbidden(node, node.id)
        if isinstance(node.ctx, ast.Load):
            self.loads.append(node)
        else:
            self.assigned.add(node.id)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._forbidden(node, node.name)
        self.assigned.add(node.name)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._forbidden(node, node.name)
        self.assigned.add(node.name)
        if any(k.arg in (None, "metaclass") for k in node.keywords):
            self.out.add(
                node.lineno,
                node.col_offset,
                "syntax-not-allowed",
                "`metaclass=` (and `**kwargs`) in a class header is not allowed: a metaclass runs code "
                "whenever classes are built",
                "Define plain classes: `class Foo(Base):`; other class keywords are fine.",
            )
        self.generic_visit(node)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        for n in node.names:
            self._forbidden(node, n)
            self.assigned.add(n)

    def _bind_pattern_name(self, node: ast.AST, name: str | None) -> None:
        if name:
            self._forbidden(node, name)
            self.assigned.add(name)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        self._bind_pattern_name(node, node.name)
        self.generic_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        self._bind_pattern_name(node, node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self._bind_pattern_name(node, node.rest)
        self.generic_visit(node)

    def visit_MatchClass(self, node: ast.MatchClass) -> None:
        for attr in node.kwd_attrs:
            if attr.startswith("_"):
                self.out.add(node.lineno, node.col_offset, "match-class-private",
                             f"class pattern reads attribute {attr!r}, which is private",
                             "Match public attributes only: `case Point(x=0, y=y):`.")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "type" and (len(node.args) != 1 or node.keywords):
            self.out.add(node.lineno, node.col_offset, "type-call",
                         "type() with several arguments builds a class at run time",
                         "Use a `class` statement; type(x) with one argument gives x's type.")
        self.generic_visit(node)

    def visit_arg(self, node: ast.arg) -> None:
        self._forbidden(node, node.arg)
        self.assigned.add(node.arg)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self._forbidden(node, node.name)
            self.assigned.add(node.name)
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        for n in node.names:
            self._forbidden(node, n)
            self.assigned.add(n)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            self._forbidden(node, bound)
            self.assigned.add(bound)
            if not _importable(self.policy, alias.name):
                self.out.add(
                    node.lineno,
                    node.col_offset,
                    "import",
                    f"import of module {alias.name!r} is not allowed by policy {self.policy.name!r}",
                    hints.import_hint(self.allowed_modules, alias.name),
                )

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            self.out.add(
                node.lineno,
                node.col_offset,
                "import",
                "relative imports are not allowed",
                hints.import_hint(self.allowed_modules),
            )
            return
        if not _importable(self.policy, module):
            self.out.add(
                node.lineno,
                node.col_offset,
                "import",
                f"import from module {module!r} is not allowed by policy {self.policy.name!r}",
                hints.import_hint(self.allowed_modules, module),
            )
        for alias in node.names:
            if alias.name == "*":
                self.out.add(
                    node.lineno,
                    node.col_offset,
                    "import",
                    "`import *` is not allowed",
                    f"Import the names you use explicitly: `from {module} import name1, name2`.",
                )
                continue
            bound = alias.asname or alias.name
            self._forbidden(node, bound)
            self._forbidden(node, alias.name)
            self.assigned.add(bound)
            if (
                alias.name != "*"
                and _importable(self.policy, module)
                and not _from_import_ok(self.policy, module, alias.name)
            ):
                rule = self.policy.modules.get(module)
                shown = sorted(rule.attributes)[:30] if rule else []
                subs = sorted(m[len(module) + 1 :] for m in self.policy.modules if m.startswith(module + "."))
                self.out.add(
                    node.lineno,
                    node.col_offset,
                    "import",
                    f"{module}.{alias.name} is not allowed by policy {self.policy.name!r}",
                    f"Allowed names from {module}: {', '.join(subs + shown) or '(none)'}.",
                )

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        self.generic_visit(node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> None:
        spec = node.format_spec
        if isinstance(spec, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in spec.values):
            text = "".join(str(v.value) for v in spec.values)
            for num in re.findall(r"\d+", text):
                if len(num) > 7 or int(num) > 1_000_000:
                    self.out.add(
                        node.lineno,
                        node.col_offset,
                        "format-width",
                        f"format width {num} is too large",
                        "Use widths below 1,000,000 characters.",
                    )
        self.generic_visit(node)

    def finish(self) -> None:
        allowed = self.policy.builtins
        for node in self.loads:
            name = node.id
            if name in self.assigned or name in allowed or name in FORBIDDEN_NAMES:
                continue
            if name in ("printed", "__name__"):
                continue
            if name in _PY_BUILTIN_NAMES:
                self.out.add(
                    node.lineno,
                    node.col_offset,
                    "builtin-not-allowed",
                    f"builtin `{name}` is not available under policy {self.policy.name!r}",
                    hints.builtin_hint(name, sorted(allowed)),
                )


# --- RestrictedPython transformer with our hooks --------------------------------------------------


def _loc(node: ast.AST, like: ast.AST) -> None:
    node.lineno = getattr(like, "lineno", 1)
    node.col_offset = getattr(like, "col_offset", 0)
    node.end_lineno = getattr(like, "end_lineno", None) or node.lineno
    node.end_col_offset = getattr(like, "end_col_offset", None) or node.col_offset


def _call(name: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    """A hook call located at `like`; only the two new nodes get positions (the args already have theirs)."""
    func = ast.Name(id=name, ctx=ast.Load())
    node = ast.Call(func=func, args=args, keywords=[])
    _loc(func, like)
    _loc(node, like)
    for arg in args:
        if "lineno" in arg._attributes and not hasattr(arg, "lineno"):
            ast.copy_location(arg, like)
            ast.fix_missing_locations(arg)
    return node


def _tick_stmt(like: ast.AST) -> ast.stmt:
    """``try: _tick_()  except _tick_stop_: _tick_refill_()``: the common path is one C-level call."""
    call = ast.Expr(value=_call("_tick_", [], like))
    refill = ast.Expr(value=_call("_tick_refill_", [], like))
    handler = ast.ExceptHandler(type=ast.Name(id="_tick_stop_", ctx=ast.Load()), name=None, body=[refill])
    stmt = ast.Try(body=[call], handlers=[handler], orelse=[], finalbody=[])
    for node in ast.walk(stmt):
        if "lineno" in node._attributes:
            ast.copy_location(node, like)
    ast.fix_missing_locations(stmt)
    return stmt


def _is_generator(func: ast.FunctionDef) -> bool:
    """`yield` in the function's own scope (nested functions, lambdas and classes are their own)."""
    stack: list[ast.AST] = list(func.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


_AUG_OP_TEXT: dict[type, str] = {
    ast.Add: "+=", ast.Sub: "-=", ast.Mult: "*=", ast.Div: "/=", ast.FloorDiv: "//=", ast.Mod: "%=", ast.Pow: "**=",
    ast.LShift: "<<=", ast.RShift: ">>=", ast.BitOr: "|=", ast.BitXor: "^=", ast.BitAnd: "&=", ast.MatMult: "@=",
}

_BINOP_HOOKS: dict[type, str] = {
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Add: "_add_",
    ast.Mod: "_mod_",
}


def _is_num_const(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (float, complex)


def _is_int_const(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, bool, float, complex)


# --- names: what a script may call its own things, and which dunders it may touch -----------------

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


def _mangle(cls_name: str | None, attr: str) -> str:
    """Python's private-name mangling, which RestrictedPython's string attribute names would skip."""
    if cls_name is None or not attr.startswith("__") or attr.endswith("__"):
        return attr
    stripped = cls_name.lstrip("_")
    return f"_{stripped}{attr}" if stripped else attr


# `n += 1`-style updates with a numeric constant cannot allocate: emit plain arithmetic (hot loops).
_PLAIN_AUG_OPS = (ast.Add, ast.Sub, ast.Div, ast.FloorDiv)


class KitgateTransformer(RestrictingNodeTransformer):
    """RestrictedPython's transformer plus kitgate hooks, inserted *after* RestrictedPython's name
    checks so our underscore hook names do not trip them."""

    _scopes: list[tuple[str, str | None]]

    def _scope_stack(self) -> list[tuple[str, str | None]]:
        if not hasattr(self, "_scopes"):
            self._scopes = []
        return self._scopes

    def _class_name(self) -> str | None:
        for kind, name in reversed(self._scope_stack()):
            if kind == "class":
                return name
        return None

    def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
        if name is None:
            return
        scopes = self._scope_stack()
        in_class_body = bool(scopes) and scopes[-1][0] == "class"
        store = isinstance(getattr(node, "ctx", None), ast.Store)
        method = (allow_magic_methods and getattr(node, "_kg_in_class", False)) or (in_class_body and store)
        load = isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and name == "__name__"
        problem = name_problem(name, method=method, load=load)
        if problem is not None:
            self.error(node, problem)
        elif name.endswith("__roles__"):
            self.error(node, f'"{name}" is an invalid name')
        elif name in ("print", "printed", "builtins", "breakpoint"):
            self.error(node, f'"{name}" is a reserved name.')

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        """`a.b` -> `_getattr_(a, "b")`, `a.b = c` -> `_write_(a).b = c`; the runtime decides per type.

        Underscore names reach the runtime (which allows them on the script's own objects only);
        only the sandbox's `_x_` names and dunders outside the allow-lists are refused here."""
        attr = _mangle(self._class_name(), node.attr)
        load = isinstance(node.ctx, ast.Load)
        problem = name_problem(attr, method=load, load=load)  # the runtime allows methods on script objects only
        if problem is not None:
            self.error(node, problem.replace("name scripts may not use here", "attribute scripts may not use"))
        if attr in INSPECT_ATTRIBUTES:
            self.error(node, f'"{attr}" is a restricted name, that is forbidden to access in RestrictedPython.')
        node = self.node_contents_visit(node)
        if load:
            new = ast.Call(func=ast.Name("_getattr_", ast.Load()), args=[node.value, ast.Constant(attr)],
                           keywords=[])
            ast.copy_location(new, node)
            ast.fix_missing_locations(new)
            return new
        node.attr = attr
        value = ast.Call(func=ast.Name("_write_", ast.Load()), args=[node.value], keywords=[])
        ast.copy_location(value, node.value)
        ast.fix_missing_locations(value)
        node.value = value
        return node

    def visit_Nonlocal(self, node: ast.Nonlocal) -> Any:
        for n in node.names:
            self.check_name(node, n)
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        keywords = [k for k in node.keywords if k.arg not in (None, "metaclass")]
        annotations = getattr(node, "_kg_annotations", [])
        self._scope_stack().append(("class", node.name))
        try:
            new = super().visit_ClassDef(node)
        finally:
            self._scope_stack().pop()
        # RestrictedPython rebuilds the class with only `metaclass=__metaclass__` (our build_class);
        # other keywords go to it and on to the base's __init_subclass__ (Enum's boundary=, ...)
        new.keywords.extend(self.visit(k) for k in keywords)
        if annotations:
            table = ast.Dict(keys=[ast.Constant(k) for k, _ in annotations],
                             values=[ast.Constant(v) for _, v in annotations])
            assign = ast.Assign(targets=[ast.Name(id="__annotations__", ctx=ast.Store())], value=table)
            ast.copy_location(assign, node)
            ast.fix_missing_locations(assign)
            new.body.insert(0, assign)
        ast.copy_location(new, node)
        ast.fix_missing_locations(new)
        return new

    def _visit_scope(self, node: Any, visit: Any) -> Any:
        self._scope_stack().append(("function", None))
        try:
            return visit(node)
        finally:
            self._scope_stack().pop()

    # --- match: patterns read attributes with the real getattr, so every class and value a pattern
    # names is looked up through the guards first and handed to the pattern from a namespace object.
    def visit_Match(self, node: ast.Match) -> Any:
        count = getattr(self, "_kg_match_count", 0) + 1
        self._kg_match_count = count
        ns = f"_kg_m{count}_"
        entries: list[ast.keyword] = []

        def hoist(expr: ast.expr, like: ast.AST, visited: bool = False) -> ast.expr:
            key = f"v{len(entries)}"
            entries.append(ast.keyword(arg=key, value=expr if visited else self.visit(expr)))
            ref = ast.Attribute(value=ast.Name(id=ns, ctx=ast.Load()), attr=key, ctx=ast.Load())
            ast.copy_location(ref, like)
            ast.copy_location(ref.value, like)
            return ref

        def pattern(p: ast.pattern) -> ast.pattern:
            if isinstance(p, ast.MatchValue):
                if not isinstance(p.value, (ast.Constant, ast.UnaryOp, ast.BinOp)):
                    p.value = hoist(p.value, p.value)
            elif isinstance(p, ast.MatchSequence):
                p.patterns = [pattern(x) for x in p.patterns]
            elif isinstance(p, ast.MatchMapping):
                p.keys = [k if isinstance(k, ast.Constant) else hoist(k, k) for k in p.keys]
                p.patterns = [pattern(x) for x in p.patterns]
                self.check_name(p, p.rest)
            elif isinstance(p, ast.MatchClass):
                for attr in p.kwd_attrs:
                    problem = name_problem(attr)
                    if problem is not None or attr.startswith("_"):
                        self.error(p, f"class pattern attribute {attr!r} is private")
                guarded = _call("_match_class_", [self.visit(p.cls), ast.Constant(len(p.patterns)),
                                                  ast.Tuple(elts=[ast.Constant(a) for a in p.kwd_attrs],
                                                            ctx=ast.Load())], p)
                p.cls = hoist(guarded, p.cls, visited=True)
                p.patterns = [pattern(x) for x in p.patterns]
                p.kwd_patterns = [pattern(x) for x in p.kwd_patterns]
            elif isinstance(p, ast.MatchAs):
                self.check_name(p, p.name)
                if p.pattern is not None:
                    p.pattern = pattern(p.pattern)
            elif isinstance(p, ast.MatchStar):
                self.check_name(p, p.name)
            elif isinstance(p, ast.MatchOr):
                p.patterns = [pattern(x) for x in p.patterns]
            return p

        node.subject = self.visit(node.subject)
        for case in node.cases:
            case.pattern = pattern(case.pattern)
            if case.guard is not None:
                case.guard = self.visit(case.guard)
            case.body = [self.visit(stmt) for stmt in case.body]
            case.body = [s for item in case.body for s in (item if isinstance(item, list) else [item])]
        if not entries:
            return node
        values = ast.Call(func=ast.Name(id="_match_values_", ctx=ast.Load()), args=[], keywords=entries)
        assign = ast.Assign(targets=[ast.Name(id=ns, ctx=ast.Store())], value=values)
        ast.copy_location(assign, node)
        ast.fix_missing_locations(assign)
        return [assign, node]

    def visit_Import(self, node: ast.Import) -> Any:
        self.check_import_names(node)
        stmts: list[ast.stmt] = []
        for alias in node.names:
            if alias.asname:
                target, value = alias.asname, _call("_import_", [ast.Constant(alias.name), ast.Constant(True)], node)
            else:
                target = alias.name.split(".")[0]
                value = _call("_import_", [ast.Constant(alias.name), ast.Constant(False)], node)
            assign = ast.Assign(targets=[ast.Name(id=target, ctx=ast.Store())], value=value)
            ast.copy_location(assign, node)
            ast.fix_missing_locations(assign)
            stmts.append(assign)
        return stmts

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        self.check_import_names(node)
        stmts: list[ast.stmt] = []
        for alias in node.names:
            value = _call("_import_from_", [ast.Constant(node.module or ""), ast.Constant(alias.name)], node)
            assign = ast.Assign(targets=[ast.Name(id=alias.asname or alias.name, ctx=ast.Store())], value=value)
            ast.copy_location(assign, node)
            ast.fix_missing_locations(assign)
            stmts.append(assign)
        return stmts

    def visit_For(self, node: ast.For) -> Any:
        node = super().visit_For(node)
        node.body.insert(0, _tick_stmt(node))
        return node

    def visit_While(self, node: ast.While) -> Any:
        node = super().visit_While(node)
        node.body.insert(0, _tick_stmt(node))
        return node

    def visit_comprehension(self, node: ast.comprehension) -> Any:
        node = super().visit_comprehension(node)
        node.ifs.insert(0, _call("_tickx_", [], node.iter))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        scopes = self._scope_stack()
        node._kg_in_class = bool(scopes) and scopes[-1][0] == "class"  # type: ignore[attr-defined]
        first = node.body[0] if node.body else None
        doc = first if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(
            first.value.value, str) else None
        node = self._visit_scope(node, super().visit_FunctionDef)
        node.body.insert(0, _tick_stmt(node.body[0] if node.body else node))
        if doc is not None and doc in node.body:  # hooks go after the docstring, so __doc__ survives
            node.body.remove(doc)
            node.body.insert(0, doc)
        if _is_generator(node):
            # innermost decorator: the runtime records every generator the script starts and closes
            # the survivors at the end of the job (a suspended `with Sdf.ChangeBlock()` or `finally`
            # must not outlive it)
            deco = ast.Name(id="_track_gen_", ctx=ast.Load())
            _loc(deco, node)
            node.decorator_list.append(deco)
        return node

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        node = self._visit_scope(node, super().visit_Lambda)
        # _tickx_() returns True, so `True and body` evaluates to body
        body = ast.BoolOp(op=ast.And(), values=[_call("_tickx_", [], node.body), node.body])
        ast.copy_location(body, node.body)
        node.body = body
        return node

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = super().visit_BinOp(node)
        hook = _BINOP_HOOKS.get(type(node.op))
        if hook is None:
            return node
        if type(node.op) in (ast.Mult, ast.Add, ast.Pow) and (_is_num_const(node.left) or _is_num_const(node.right)):
            return node  # float/complex operands cannot build sequences or huge integers
        if isinstance(node.op, ast.Add) and (_is_int_const(node.left) or _is_int_const(node.right)):
            return node  # number + sequence is a TypeError; number + number stays small
        if isinstance(node.op, ast.Mod) and _is_int_const(node.left):
            return node  # only a str/bytes left operand formats
        return _call(hook, [node.left, node.right], node)

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        target = node.target
        if isinstance(target, ast.Name) and isinstance(node.op, _PLAIN_AUG_OPS) and _is_int_const(node.value):
            self.check_name(target, target.id)
            load = ast.Name(id=target.id, ctx=ast.Load())
            assign = ast.Assign(targets=[ast.Name(id=target.id, ctx=ast.Store())],
                                value=ast.BinOp(left=load, op=node.op, right=node.value))
            ast.copy_location(assign, node)
            ast.fix_missing_locations(assign)
            for sub in ast.walk(assign):
                if hasattr(sub, "lineno"):
                    ast.copy_location(sub, node)
            return assign
        if isinstance(target, (ast.Subscript, ast.Attribute)):
            # RestrictedPython refuses `d[k] += 1` and `obj.n += 1`, which ordinary code is full of.
            # Rewrite to a hook that reads through _getitem_/_getattr_ and writes through _write_.
            node.value = self.visit(node.value)
            obj = self.visit(target.value)
            op = ast.Constant(_AUG_OP_TEXT[type(node.op)])
            if isinstance(target, ast.Subscript):
                key = self.visit(target.slice)
                call = _call("_aug_item_", [obj, key, op, node.value], node)
            else:
                self.visit_Attribute(ast.copy_location(
                    ast.Attribute(value=ast.Name(id="x", ctx=ast.Load()), attr=target.attr, ctx=ast.Load()), target))
                attr = _mangle(self._class_name(), target.attr)
                call = _call("_aug_attr_", [obj, ast.Constant(attr), op, node.value], node)
            stmt = ast.Expr(value=call)
            ast.copy_location(stmt, node)
            ast.fix_missing_locations(stmt)
            return stmt
        return super().visit_AugAssign(node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        node = super().visit_FormattedValue(node)
        if node.format_spec is None:
            return node
        call = _call("_format_", [node.value, node.format_spec, ast.Constant(node.conversion)], node)
        new = ast.FormattedValue(value=call, conversion=-1, format_spec=None)
        ast.copy_location(new, node)
        return new

    def visit_Module(self, node: ast.Module) -> Any:
        node = super().visit_Module(node)
        if node.body and isinstance(node.body[-1], ast.Expr):
            last = node.body[-1]
            assign = ast.Assign(targets=[ast.Name(id=LAST_VALUE, ctx=ast.Store())], value=last.value)
            ast.copy_location(assign, last)
            ast.copy_location(assign.targets[0], last)
            ast.fix_missing_locations(assign)
            node.body[-1] = assign
        return node


# --- entry point -----------------------------------------------------------------------------------

_cache: OrderedDict[tuple[str, str], CompileResult] = OrderedDict()
_cache_lock = threading.Lock()


def _sha(source: str | bytes) -> str:
    if isinstance(source, str):
        data = source.encode("utf-8", errors="surrogatepass")
    elif isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        data = repr(type(source)).encode()
    return hashlib.sha256(data).hexdigest()


def compile_source(source: str | bytes, policy: Policy) -> CompileResult:
    """Judge `source` under `policy`. Never raises: internal errors become a violation."""
    try:
        sha = _sha(source)
    except BaseException:  # noqa: BLE001 - never raise from the compiler
        sha = "0" * 64
    digest = getattr(policy, "digest", "")
    key = (sha, digest)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    try:
        result = _compile(source, policy, sha)
    except BaseException as exc:  # noqa: BLE001 - RecursionError/MemoryError from the parser included
        result = CompileResult(
            False,
            [
                Violation(
                    1,
                    0,
                    "internal",
                    f"the compiler could not process this script ({type(exc).__name__})",
                    "Simplify the script: less nesting, shorter expressions.",
                )
            ],
            sha,
            digest,
            None,
        )
    with _cache_lock:
        _cache[key] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result


def _compile(source: str | bytes, policy: Policy, sha: str) -> CompileResult:
    out = _Collector()
    limits = policy.limits
    digest = policy.digest

    def fail() -> CompileResult:
        return CompileResult(False, out.items, sha, digest, None)

    size = len(source.encode("utf-8", errors="surrogatepass")) if isinstance(source, str) else len(source)
    if size > limits.source_bytes:
        out.add(
            1,
            0,
            "source-size",
            f"source is {size} bytes; the limit is {limits.source_bytes}",
            "Shorten the script or split the work into several jobs.",
        )
        return fail()
    text = _decode(source, out)
    if text is None:
        return fail()
    lines = text.count("\n") + 1
    if lines > limits.max_lines:
        out.add(
            limits.max_lines,
            0,
            "line-count",
            f"source has {lines} lines; the limit is {limits.max_lines}",
            "Shorten the script or split the work into several jobs.",
        )
        return fail()
    _check_identifiers(text, out)
    if out.items:
        return fail()
    try:
        tree = ast.parse(text, filename=FILENAME, mode="exec")
    except SyntaxError as exc:
        out.add(
            exc.lineno or 1,
            (exc.offset or 1) - 1,
            "syntax",
            f"syntax error: {exc.msg}",
            "Fix the Python syntax at this position.",
        )
        return fail()
    except (RecursionError, MemoryError, ValueError) as exc:
        out.add(
            1,
            0,
            "ast-depth",
            f"the script is nested too deeply to parse ({type(exc).__name__})",
            f"Keep nesting below {limits.ast_depth} levels.",
        )
        return fail()
    depth, deep = _ast_depth(tree, limits.ast_depth)
    if deep is not None:
        out.add(
            getattr(deep, "lineno", 1),
            getattr(deep, "col_offset", 0),
            "ast-depth",
            f"expression or block nesting exceeds {limits.ast_depth} levels",
            "Flatten the code: use intermediate variables and helper functions.",
        )
        return fail()

    tree = _StripAnnotations().visit(tree)
    ast.fix_missing_locations(tree)
    rules = _Rules(policy, out)
    rules.visit(tree)
    rules.finish()
    if "print" not in policy.builtins and any(n.id in ("print", "printed") for n in rules.loads):
        node = next(n for n in rules.loads if n.id in ("print", "printed"))
        out.add(
            node.lineno,
            node.col_offset,
            "builtin-not-allowed",
            "print is not available under this policy",
            "Return data as the last expression or in a variable named `result`.",
        )
    mine = len(out.items)

    rp = compile_restricted_exec(tree, filename=FILENAME, policy=KitgateTransformer)
    for msg in rp.errors:
        m = _RP_LINE_RE.match(msg)
        line = int(m.group(1)) if m and m.group(1).isdigit() else 1
        body = m.group(2) if m else msg
        if mine and (
            "Eval calls" in body
            or "Exec calls" in body
            or "statement is not known" in body
            or "statements are not allowed" in body
            or '"*" imports' in body
        ):
            continue  # already reported by our own rules with a better hint
        out.add(line, 0, "restricted-python", body, hints.restricted_hint(body))
    if out.items or rp.code is None:
        if not out.items:
            out.add(1, 0, "internal", "RestrictedPython produced no code", "Simplify the script.")
        out.items.sort(key=lambda v: (v.line, v.col))
        return fail()
    return CompileResult(True, [], sha, digest, rp.code)


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
