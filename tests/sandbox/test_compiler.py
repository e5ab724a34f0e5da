"""The restricted compiler: positions, rules and hints for many violations; never raises."""

from __future__ import annotations

import pytest

from kitgate.sandbox.compile.compiler import CompileResult, Violation, compile_source
from kitgate.sandbox.policy import Policy, load_policy


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy("scene-edit")


def rules(result: CompileResult) -> list[tuple[int, str]]:
    return [(v.line, v.rule) for v in result.violations]


def test_realistic_script_with_annotations_compiles(policy: Policy) -> None:
    src = '''
from pxr import Usd, UsdGeom, Sdf, Gf, Vt, UsdShade, UsdLux, UsdPhysics
import math

stage2: Usd.Stage = Usd.Stage.CreateInMemory()
count: int
def make(path: str, size: float = 1.0) -> UsdGeom.Cube:
    cube: UsdGeom.Cube = UsdGeom.Cube.Define(stage, path)
    cube.GetSizeAttr().Set(size)
    return cube
class Helper:
    name: str = "h"
    scale: float
for i in range(3):
    make(f"/World/C{i}", math.sqrt(i + 1))
result = {"ok": True}
'''
    result = compile_source(src, policy)
    assert result.ok, [v.to_dict() for v in result.violations]
    assert result.code is not None
    assert result.policy_digest == policy.digest
    assert len(result.code_sha256) == 64


def test_several_violations_reported_with_positions_and_hints(policy: Policy) -> None:
    src = "import os\nx = 1\ndata = open('/etc/passwd').read()\ne = eval\ny = vars(x)\n"
    result = compile_source(src, policy)
    assert not result.ok
    got = rules(result)
    assert (1, "import") in got
    assert (3, "forbidden-name") in got
    assert (4, "forbidden-name") in got
    assert (5, "forbidden-name") in got
    for v in result.violations:
        assert isinstance(v, Violation)
        assert v.hint and v.message
        assert set(v.to_dict()) == {"line", "col", "rule", "message", "hint"}
    open_v = next(v for v in result.violations if v.line == 3)
    assert "GetAttribute" in open_v.hint and open_v.col == 7
    import_v = next(v for v in result.violations if v.rule == "import")
    assert "pxr.Usd" in import_v.hint and "stage" in import_v.hint
    assert "file system" in import_v.hint
    assert compile_source("import numpy as np", policy).ok  # scene-edit is isolated: numpy is vetted there
    numpy = compile_source("import numpy as np", load_policy("trusted")).violations[0]
    assert "isolated" in numpy.hint and "Vt.Vec3fArray" in numpy.hint


@pytest.mark.parametrize(
    ("src", "rule"),
    [
        ("from pxr import UsdUtils", "import"),
        ("from pxr import Plug", "import"),
        ("import pxr.Plug as P\n", "import"),
        ("from pxr.Tf import Fatal", "import"),
        ("from math import *", "import"),
        ("from . import x", "import"),
        ("import subprocess", "import"),
        ("x = type('A', (), {})", "type-call"),
        ("def f(eval):\n    return 1", "forbidden-name"),
        ("import math as eval", "forbidden-name"),
        ("x = vars", "forbidden-name"),
        ("x = object", "forbidden-name"),
        ("try:\n    pass\nexcept BaseException:\n    pass", "forbidden-name"),
        ("raise SystemExit(1)", "forbidden-name"),
        ("x = ().__class__.__mro__", "restricted-python"),
        ("_x_ = 1", "restricted-python"),
        ("match 1:\n    case C(__dict__=d):\n        pass", "match-class-private"),
        ("async def f():\n    pass", "syntax-not-allowed"),
        ("try:\n    pass\nexcept* ValueError:\n    pass", "syntax-not-allowed"),
        ("def f():\n    def g():\n        nonlocal _tick_\n        _tick_ = 2", "restricted-python"),
        ("class A(metaclass=X):\n    pass", "syntax-not-allowed"),
        ("x = f'{1:>2000000000}'", "format-width"),
        ("x = memoryview(b'')", "forbidden-name"),
        ("def f(:\n", "syntax"),
        ("x = exec", "forbidden-name"),
        ("g = (lambda: 0).__globals__", "restricted-python"),
        ("x = 1\nx.gi_frame", "restricted-python"),
    ],
)
def test_rules(policy: Policy, src: str, rule: str) -> None:
    result = compile_source(src, policy)
    assert not result.ok
    assert rule in {v.rule for v in result.violations}, [v.to_dict() for v in result.violations]


def test_builtin_not_in_policy_is_reported(tmp_path) -> None:  # noqa: ANN001
    policy = load_policy("scene-edit")
    result = compile_source("x = breakpoint\ny = __build_class__", policy)
    assert not result.ok
    shadow = compile_source("def sorted(x):\n    return x\nsorted([1])", policy)
    assert shadow.ok


def test_coding_cookie_refused(policy: Policy) -> None:
    src = b"# -*- coding: utf-7 -*-\nx = 1\n"
    result = compile_source(src, policy)
    assert rules(result) == [(1, "coding-cookie")]


def test_bidi_and_control_characters_refused(policy: Policy) -> None:
    src = 'x = "abc"\ns = "user\u202e \u2066"  # reversed\ny = 1\x00\n'
    result = compile_source(src, policy)
    assert not result.ok
    got = rules(result)
    assert (2, "control-char") in got and (3, "control-char") in got
    assert sum(1 for v in result.violations if v.line == 2) == 2


def test_nfkc_identifiers_refused(policy: Policy) -> None:
    src = "x = 1\n\uff45\uff56\uff41\uff4c('1')\n"  # fullwidth 'eval'
    result = compile_source(src, policy)
    assert rules(result) == [(2, "non-ascii-identifier")]
    assert "eval" in result.violations[0].message
    ok = compile_source("s = 'caf\u00e9 \u2603'\n# comment \u00fc\n", policy)
    assert ok.ok


def test_invalid_utf8_and_surrogates(policy: Policy) -> None:
    assert rules(compile_source(b"x = 1\ny = '\xff'\n", policy)) == [(2, "decode")]
    assert rules(compile_source("x = '\ud800'", policy)) == [(1, "decode")]


def test_deep_nesting_is_a_violation_not_an_exception(policy: Policy) -> None:
    for src in ("x = " + "(" * 5000 + "1" + ")" * 5000,
                "x = " + "[" * 150 + "]" * 150,
                "x = " + "-" * 100_000 + "1",
                "x = 1" + " + 1" * 20_000):
        result = compile_source(src, policy)
        assert not result.ok
        assert result.violations[0].rule in ("ast-depth", "syntax", "source-size", "internal")
    nested = "if True:\n" + "".join("    " * i + "if True:\n" for i in range(1, 70)) + "    " * 70 + "pass\n"
    assert "ast-depth" in {v.rule for v in compile_source(nested, policy).violations}


def test_size_and_line_limits(policy: Policy) -> None:
    big = "x = 1\n" * (policy.limits.source_bytes // 6 + 10)
    assert rules(compile_source(big, policy))[0][1] == "source-size"
    many = "\n" * (policy.limits.max_lines + 5)
    assert rules(compile_source(many, policy))[0][1] == "line-count"


@pytest.mark.parametrize("source", [None, 12, object(), b"", "", "\n\n"])
def test_never_raises(policy: Policy, source: object) -> None:
    result = compile_source(source, policy)  # type: ignore[arg-type]
    assert isinstance(result, CompileResult)


def test_results_are_cached_per_policy_digest(policy: Policy) -> None:
    src = "x = 41 + 1\n"
    a = compile_source(src, policy)
    b = compile_source(src.encode(), policy)
    assert a is b  # same sha256, same policy digest
    other = compile_source(src, load_policy("readonly"))
    assert other is not a and other.policy_digest != a.policy_digest


def test_readonly_imports(policy: Policy) -> None:
    readonly = load_policy("readonly")
    assert compile_source("from pxr import Usd, UsdGeom, Sdf, Gf\nimport math", readonly).ok
    assert not compile_source("from pxr import Usd, UsdUtils", readonly).ok


def test_trusted_allows_kit_modules_only_by_name() -> None:
    trusted = load_policy("trusted")
    assert compile_source("import omni.usd\nimport omni.kit.commands", trusted).ok
    assert not compile_source("import omni.client", trusted).ok
    assert not compile_source("import carb.settings", trusted).ok
    assert not compile_source("import omni.usd", load_policy("scene-edit")).ok
