"""Our own AST rules: which syntax, names and imports a script may use under its policy.

Why apart from the transformer: these are decisions (refuse with a rule name, a message and a hint),
made on the plain tree before RestrictedPython rewrites it; the transformer only rewrites.
"""

from __future__ import annotations

import ast
import builtins as _py_builtins
import re
from collections.abc import Callable
from typing import Any

from kitgate.sandbox.compile import hints
from kitgate.sandbox.compile.result import Collector
from kitgate.sandbox.policy import FORBIDDEN_BUILTINS, Policy

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
_PY_BUILTIN_NAMES = frozenset(dir(_py_builtins))


class StripAnnotations(ast.NodeTransformer):
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


class Rules(ast.NodeVisitor):
    def __init__(self, policy: Policy, out: Collector) -> None:
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

    def visit(self, node: ast.AST) -> None:
        """`ast.NodeVisitor.visit` with the method looked up once per node type."""
        cls, kind = type(self), type(node)
        method = _RULES_DISPATCH.get((cls, kind))
        if method is None:
            method = getattr(cls, "visit_" + kind.__name__, None) or cls.generic_visit
            _RULES_DISPATCH[(cls, kind)] = method
        method(self, node)

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
        # ast.NodeVisitor.generic_visit, minus visits that could do nothing: allowed leaves (Load, Add,
        # Eq, Constant, ...) that hold no nodes and have no rule of their own.
        AST = ast.AST
        quiet = _QUIET_LEAVES
        visit = self.visit
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, AST) and type(item) not in quiet:
                        visit(item)
            elif isinstance(value, AST) and type(value) not in quiet:
                visit(value)

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


_RULES_DISPATCH: dict[tuple[type, type], Callable[[Any, Any], Any]] = {}
_QUIET_LEAVES: frozenset[type] = frozenset(
    kind
    for kind in [
        *(k for base in (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
          for k in base.__subclasses__() if not k._fields),
        ast.Constant,
    ]
    if kind in _ALLOWED_NODES
    and getattr(Rules, f"visit_{kind.__name__}", None)
    in (None, getattr(ast.NodeVisitor, f"visit_{kind.__name__}", None))
)
