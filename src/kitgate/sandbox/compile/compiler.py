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
import hashlib
import re
import threading
from collections import OrderedDict

from RestrictedPython import compile_restricted_exec

from kitgate.sandbox.compile import hints
from kitgate.sandbox.compile.names import DEFINABLE_DUNDERS, READABLE_DUNDERS, name_problem  # noqa: F401
from kitgate.sandbox.compile.result import MAX_VIOLATIONS, Collector, CompileResult, Violation  # noqa: F401
from kitgate.sandbox.compile.rules import FORBIDDEN_NAMES, Rules, StripAnnotations  # noqa: F401
from kitgate.sandbox.compile.source import ast_depth, check_identifiers, decode, scan_tree  # noqa: F401
from kitgate.sandbox.compile.transformer import LAST_VALUE, KitgateTransformer  # noqa: F401
from kitgate.sandbox.policy import Policy

FILENAME = "<script>"
CACHE_SIZE = 256
_RP_LINE_RE = re.compile(r"^Line (\d+|None): (.*)$", re.S)


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
    out = Collector()
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
    text = decode(source, out)
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
    check_identifiers(text, out)
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
    scan = scan_tree(tree, limits.ast_depth)
    deep = scan.deep
    if deep is not None:
        out.add(
            getattr(deep, "lineno", 1),
            getattr(deep, "col_offset", 0),
            "ast-depth",
            f"expression or block nesting exceeds {limits.ast_depth} levels",
            "Flatten the code: use intermediate variables and helper functions.",
        )
        return fail()

    if scan.strip:  # a tree without annotations, `__future__` imports or bare `except:` is left as it is
        tree = StripAnnotations().visit(tree)
        ast.fix_missing_locations(tree)
    tree._kg_has_yield = scan.has_yield  # type: ignore[attr-defined]  # read by the transformer
    rules = Rules(policy, out)
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
