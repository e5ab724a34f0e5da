"""The RestrictedPython transformer with our hooks.

Why a subclass: RestrictedPython's rewrite (guarded attribute, item and iteration access) is the base;
on top of it this inserts step ticks in loops and functions, allocation guards on ``* ** << + %``,
guarded f-string formats, proxy imports and the capture of the last expression (LAST_VALUE).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from RestrictedPython.transformer import INSPECT_ATTRIBUTES, RestrictingNodeTransformer

from kitgate.sandbox.compile.names import mangle, name_problem

LAST_VALUE = "_kg_last_"


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


def _place(like: ast.AST, *nodes: ast.AST) -> None:
    """`ast.copy_location(node, like)` for each node (all of them located types), read once from `like`."""
    lineno = getattr(like, "lineno", None)
    col = getattr(like, "col_offset", None)
    end_lineno = getattr(like, "end_lineno", None)
    end_col = getattr(like, "end_col_offset", None)
    if lineno is None or col is None or end_lineno is None or end_col is None:
        for node in nodes:  # a partly located `like`: copy_location's own rules for missing values
            ast.copy_location(node, like)
        return
    for node in nodes:
        node.lineno, node.col_offset = lineno, col
        node.end_lineno, node.end_col_offset = end_lineno, end_col


def _tick_stmt(like: ast.AST) -> ast.stmt:
    """``try: _tick_()  except _tick_stop_: _tick_refill_()``: the common path is one C-level call.

    Every node that carries a position gets `like`'s, set directly (no tree walk per hook; position
    keywords to the node constructors cost twice as much as setting the attributes)."""
    if any(getattr(like, a, None) is None for a in _POSITIONS):
        return _tick_stmt_slow(like)
    tick = ast.Name("_tick_", _LOAD)
    call = ast.Call(tick, [], [])
    expr = ast.Expr(call)
    refill_name = ast.Name("_tick_refill_", _LOAD)
    refill_call = ast.Call(refill_name, [], [])
    refill = ast.Expr(refill_call)
    stop = ast.Name("_tick_stop_", _LOAD)
    handler = ast.ExceptHandler(stop, None, [refill])
    stmt = ast.Try([expr], [handler], [], [])
    _place(like, stmt, expr, call, tick, handler, stop, refill, refill_call, refill_name)
    return stmt


_POSITIONS = ("lineno", "col_offset", "end_lineno", "end_col_offset")
_LOAD = ast.Load()  # one shared instance, as the parser itself shares its Load/Store/Del


def _tick_stmt_slow(like: ast.AST) -> ast.stmt:
    """The same statement for a `like` with missing positions: copy what it has, fill the rest."""
    call = ast.Expr(value=_call("_tick_", [], like))
    refill = ast.Expr(value=_call("_tick_refill_", [], like))
    stop = ast.Name(id="_tick_stop_", ctx=ast.Load())
    handler = ast.ExceptHandler(type=stop, name=None, body=[refill])
    stmt = ast.Try(body=[call], handlers=[handler], orelse=[], finalbody=[])
    for node in (stmt, call, call.value, call.value.func, handler, stop, refill, refill.value, refill.value.func):
        ast.copy_location(node, like)
    ast.fix_missing_locations(stmt)
    return stmt


def _is_generator(func: ast.FunctionDef) -> bool:
    """`yield` in the function's own scope (nested functions, lambdas and classes are their own)."""
    AST = ast.AST
    stack: list[ast.AST] = list(func.body)
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        kind = type(node)
        if kind in _YIELDS:
            return True
        if kind in _OWN_SCOPES:
            continue
        for name in node._fields:  # ast.iter_child_nodes, inlined: this runs over every function body
            value = getattr(node, name, None)
            if isinstance(value, AST):
                push(value)
            elif isinstance(value, list):
                stack.extend(item for item in value if isinstance(item, AST))
    return False


_YIELDS = frozenset({ast.Yield, ast.YieldFrom})
_OWN_SCOPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef})


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


_PLAIN_AUG_OPS = (ast.Add, ast.Sub, ast.Div, ast.FloorDiv)

# transformer class -> {node type -> the unbound visitor method}; filled on first use of each pair.
_DISPATCH: dict[type, dict[type, Callable[[Any, Any], Any]]] = {}


def _dispatch_table(cls: type) -> dict[type, Callable[[Any, Any], Any]]:
    table = _DISPATCH.get(cls)
    if table is None:
        table = _DISPATCH.setdefault(cls, {})
    return table


def _method_for(table: dict[type, Callable[[Any, Any], Any]], cls: type, kind: type) -> Callable[[Any, Any], Any]:
    """What `ast.NodeVisitor.visit` would call: `visit_<Type>`, else `generic_visit` (which refuses)."""
    method = getattr(cls, "visit_" + kind.__name__, None) or cls.generic_visit
    table[kind] = method
    return method


_PASSTHROUGH: dict[type, frozenset[type]] = {}


def _passthrough_leaves(cls: type) -> frozenset[type]:
    """Leaf node types (no fields, or only plain values: Constant) whose visitor on `cls` is exactly
    `return self.node_contents_visit(node)` (RestrictedPython's visit_Load, visit_Add, visit_Constant, ...):
    visiting one returns it unchanged, so it is skipped.
    Decided from the visitor's bytecode, so a RestrictedPython release that starts checking one of them
    gets visited again, and a type without a visitor still reaches `generic_visit` (and is refused)."""
    known = _PASSTHROUGH.get(cls)
    if known is not None:
        return known
    model = RestrictingNodeTransformer.visit_Load.__code__
    found = set()
    kinds = [k for base in (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
             for k in base.__subclasses__() if not k._fields]
    kinds.append(ast.Constant)  # its fields (value, kind) are plain Python values, never nodes
    for kind in kinds:
        method = getattr(cls, "visit_" + kind.__name__, None)
        code = getattr(method, "__code__", None)
        if code is not None and code.co_code == model.co_code and code.co_names == model.co_names:
            found.add(kind)
    result = frozenset(found)
    _PASSTHROUGH[cls] = result
    return result


class KitgateTransformer(RestrictingNodeTransformer):
    """RestrictedPython's transformer plus kitgate hooks, inserted *after* RestrictedPython's name
    checks so our underscore hook names do not trip them."""

    _scopes: list[tuple[str, str | None]]
    _kg_has_yield: bool = True

    # --- traversal: the same visits as ast.NodeTransformer, with less interpreter work per node.
    # The dispatch is looked up once per node type (not `"visit_" + name` and getattr per node), and
    # field-less leaves whose visitor only returns them (Load, Store, Add, Eq, ...) are not visited.
    def visit(self, node: ast.AST) -> Any:
        kind = type(node)
        table = _dispatch_table(type(self))
        method = table.get(kind) or _method_for(table, type(self), kind)
        return method(self, node)

    def node_contents_visit(self, node: Any) -> Any:
        """`ast.NodeTransformer.generic_visit`, same results: visit each child, splice lists, drop None.
        Children are dispatched here directly (the same table as `visit`), one call frame less per node."""
        AST = ast.AST
        cls = type(self)
        passthrough = _PASSTHROUGH.get(cls) or _passthrough_leaves(cls)
        if (type(node) is ast.Name and type(getattr(node, "ctx", None)) in passthrough
                and type(getattr(node, "id", None)) is str):
            return node  # the commonest node: a str and a context leaf, nothing to visit
        table = _dispatch_table(cls)
        for name in node._fields:
            try:
                old = getattr(node, name)
            except AttributeError:
                continue
            if isinstance(old, list):
                values: list[Any] = []
                for value in old:
                    if isinstance(value, AST):
                        kind = type(value)
                        if kind not in passthrough:
                            value = (table.get(kind) or _method_for(table, cls, kind))(self, value)
                            if value is None:
                                continue
                            if not isinstance(value, AST):
                                values.extend(value)
                                continue
                    values.append(value)
                old[:] = values
            elif isinstance(old, AST):
                kind = type(old)
                if kind in passthrough:
                    continue
                new = (table.get(kind) or _method_for(table, cls, kind))(self, old)
                if new is None:
                    delattr(node, name)
                else:
                    setattr(node, name, new)
        return node

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
        attr = mangle(self._class_name(), node.attr)
        load = isinstance(node.ctx, ast.Load)
        problem = name_problem(attr, method=load, load=load)  # the runtime allows methods on script objects only
        if problem is not None:
            self.error(node, problem.replace("name scripts may not use here", "attribute scripts may not use"))
        if attr in INSPECT_ATTRIBUTES:
            self.error(node, f'"{attr}" is a restricted name, that is forbidden to access in RestrictedPython.')
        node = self.node_contents_visit(node)
        if load:
            func, name = ast.Name("_getattr_", _LOAD), ast.Constant(attr)
            new = ast.Call(func, [node.value, name], [])
            _place(node, new)
            _place(new, func, name)  # what ast.fix_missing_locations(new) gave the new nodes, no walk
            return new
        node.attr = attr
        func = ast.Name("_write_", _LOAD)
        value = ast.Call(func, [node.value], [])
        _place(node.value, value)
        _place(value, func)
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
        # RestrictedPython built `new` by parsing `class X(metaclass=__metaclass__): pass`, so its own nodes
        # are located (line 1) and its body is ours, already located; no walk over the whole class body.
        ast.copy_location(new, node)
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
        # read before the rewrite (a smaller tree): the rewrite adds and removes no `yield` and no scope;
        # a script without any `yield` (the compiler's scan says so) has no generator to look for
        generator = self._kg_has_yield and _is_generator(node)
        node = self._visit_scope(node, super().visit_FunctionDef)
        node.body.insert(0, _tick_stmt(node.body[0] if node.body else node))
        if doc is not None and doc in node.body:  # hooks go after the docstring, so __doc__ survives
            node.body.remove(doc)
            node.body.insert(0, doc)
        if generator:
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
                attr = mangle(self._class_name(), target.attr)
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
        self._kg_has_yield = getattr(node, "_kg_has_yield", True)  # unknown: look in every function
        node = super().visit_Module(node)
        if node.body and isinstance(node.body[-1], ast.Expr):
            last = node.body[-1]
            assign = ast.Assign(targets=[ast.Name(id=LAST_VALUE, ctx=ast.Store())], value=last.value)
            ast.copy_location(assign, last)
            ast.copy_location(assign.targets[0], last)
            ast.fix_missing_locations(assign)
            node.body[-1] = assign
        return node
