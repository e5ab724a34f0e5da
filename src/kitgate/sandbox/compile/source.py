"""Source checks that run before the parser: decoding, identifiers, size and nesting.

Why before the parser: a coding cookie or a bidi control makes the parser see something a reviewer
does not, and deep nesting blows the parser's or the compiler's stack. So the bytes are decoded here,
by our rules, and the tree's depth is measured before anything recurses over it.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import unicodedata
from typing import NamedTuple

from kitgate.sandbox.compile.result import Collector

_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_COOKIE_RE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.ASCII)
# Every character the per-character scan below could refuse, and more: an ASCII control (not \t \n \r \f),
# DEL, or any non-ASCII character. Text without one of these (most scripts) skips that scan, in C.
_MAYBE_SUSPECT_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\U0010ffff]")


def decode(source: str | bytes, out: Collector) -> str | None:
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
    if _MAYBE_SUSPECT_RE.search(text) is None:
        return text
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


def check_identifiers(text: str, out: Collector) -> None:
    """The parser NFKC-normalises identifiers (`ｅｖａｌ` becomes `eval`); refuse non-ASCII names."""
    if text.isascii():
        return  # no token can hold a non-ASCII character; skip the (pure-Python) tokenizer
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


def ast_depth(tree: ast.AST, limit: int) -> tuple[int, ast.AST | None]:
    scan = scan_tree(tree, limit)
    return scan.depth, scan.deep


def _has_annotation_work(node: ast.AST) -> bool:
    """Would `rules.StripAnnotations` change this node? (annotations, `__future__`, bare `except:`)"""
    kind = type(node)
    if kind is ast.AnnAssign:
        return True
    if kind is ast.arg:
        return node.annotation is not None  # type: ignore[attr-defined]
    if kind is ast.FunctionDef:
        return node.returns is not None  # type: ignore[attr-defined]
    if kind is ast.ImportFrom:
        return node.module == "__future__"  # type: ignore[attr-defined]
    return kind is ast.ExceptHandler and node.type is None  # type: ignore[attr-defined]


_ANNOTATION_KINDS = frozenset({ast.AnnAssign, ast.arg, ast.FunctionDef, ast.ImportFrom, ast.ExceptHandler})
_YIELD_KINDS = frozenset({ast.Yield, ast.YieldFrom})
_NOTED_KINDS = _ANNOTATION_KINDS | _YIELD_KINDS


class TreeScan(NamedTuple):
    depth: int  # the deepest level seen (the first one past the limit, if any)
    deep: ast.AST | None  # the first node deeper than the limit, or None
    strip: bool  # the tree holds something `StripAnnotations` rewrites
    has_yield: bool  # the tree holds a `yield` somewhere (else no function in it is a generator)


def scan_tree(tree: ast.AST, limit: int) -> TreeScan:
    """One walk, without recursion: the depth (stopping at the first node deeper than `limit`), whether
    the tree holds anything `StripAnnotations` would rewrite, and whether it holds any `yield`.

    Children are pushed in `ast.iter_child_nodes` order and popped last-first, so the node reported as
    too deep is the same one a plain `iter_child_nodes` walk finds."""
    AST = ast.AST
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    pop, push = stack.pop, stack.append
    deepest = 0
    strip = has_yield = False
    noted = _NOTED_KINDS
    while stack:
        node, depth = pop()
        if depth > deepest:
            deepest = depth
            if depth > limit:
                return TreeScan(depth, node, strip, has_yield)
        kind = type(node)
        if kind in noted:
            if kind in _YIELD_KINDS:
                has_yield = True
            elif not strip:
                strip = _has_annotation_work(node)
        below = depth + 1
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, AST):
                push((value, below))
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, AST):
                        push((item, below))
    return TreeScan(deepest, None, strip, has_yield)
