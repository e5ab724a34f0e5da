"""In-process guards parse what a single C call will read, and the host survives every refusal.

The parsers are checked against CPython itself: for every spec/format string CPython accepts, the
parsed width/precision must be the one CPython applies (measured from the real output). The job
tests run the real in-process Executor (policy `trusted`) in this pytest process: a refusal must be a
clean LimitExceeded/SandboxDenied before the work starts, and the next job must run.
"""

from __future__ import annotations

import pytest
from pxr import Sdf, Usd

from kitgate.sandbox.executor import Executor
from kitgate.sandbox.policy import load_policy
from kitgate.sandbox.runtime import bounds
from kitgate.sandbox.runtime.bounds import LimitExceeded, parse_format_spec, percent_fields, percent_output_size
from kitgate.sandbox.runtime.guards import SandboxDenied
from kitgate.sandbox.runtime.native import MAX_DEPTH, check_value, path_nesting

SPECS = ["", ">10", "\n>12", "\r^9", "x<5", "0=8", "+08.3f", " z#010_.2e", "*^+20,", "<", "\n<", ".3",
         "%", "10.4%", "#x", "_b", ",d", "07"]


@pytest.mark.parametrize("spec", SPECS)
def test_format_spec_parser_agrees_with_cpython(spec: str) -> None:
    parsed = parse_format_spec(spec)
    assert parsed is not None
    value = 3.25 if (parsed.type or "f") in "eEfFgG%" or parsed.precision is not None else 42
    if parsed.type in ("x", "b", "d"):
        value = 42
    out = format(value, spec)
    if parsed.width is not None:
        assert len(out) >= parsed.width
        assert len(format(value, spec.replace(str(parsed.width), "1", 1) if parsed.width > 9 else spec)) <= len(out)
    if parsed.fill is not None and parsed.width and parsed.width > len(format(value, "")) + 4:
        assert parsed.fill in out


def test_newline_fill_is_read_as_fill() -> None:
    spec = parse_format_spec("\n>300")
    assert spec is not None and (spec.fill, spec.align, spec.width) == ("\n", ">", 300)
    with pytest.raises(LimitExceeded):
        bounds.check_format_spec("\n>300000000")


def test_custom_spec_with_a_huge_number_is_refused_by_its_worst_reading() -> None:
    assert parse_format_spec("%Y-%m-%d") is None  # a type's own mini-language: not ours to read
    bounds.check_format_spec("%Y-%m-%d")
    with pytest.raises(LimitExceeded):
        bounds.check_format_spec("%Y 300000000")


@pytest.mark.parametrize(("fmt", "args"), [
    ("%(a(b)c)5s|", {"a(b)c": "x"}),
    ("%(k((x)))+.4d", {"k((x))": 5}),
    ("%-*s|%.*f", (6, "ab", 2, 3.14159)),
    ("%%%5d%%", (7,)),
    ("%ld %hi %Lf", (1, 2, 3.0)),
    ("%#o %x %r %a", (8, 255, "q", "é")),
])
def test_percent_estimate_is_an_upper_bound_of_cpython_output(fmt: str, args: object) -> None:
    assert len(fmt % args) <= percent_output_size(fmt, args)
    raw = fmt.encode("latin-1") if fmt.isascii() and "%r" not in fmt and "%a" not in fmt else None
    if raw is not None and type(args) is tuple:
        bargs = tuple(a.encode() if isinstance(a, str) else a for a in args)
        assert len(bytearray(raw) % bargs) <= percent_output_size(bytearray(raw), bargs)


def test_percent_key_follows_balanced_parentheses() -> None:
    fields = list(percent_fields("%(a(b)c)300s and %(x)d"))
    assert [(f.key, f.width, f.conversion) for f in fields] == [("a(b)c", "300", "s"), ("x", None, "d")]
    with pytest.raises(LimitExceeded):
        percent_output_size("%(a(b)c)300000000s", {"a(b)c": "x"})
    with pytest.raises(LimitExceeded):
        percent_output_size(bytearray(b"%*s"), (300000000, b"x"))


def test_numeric_budgets_allow_ordinary_work() -> None:
    bounds.check_modpow(2**2048 - 1, 2**2048 + 981)  # RSA-sized modular power
    bounds.check_product(list(range(1, 2000)))
    bounds.check_int_sum([10**300] * 10_000)
    bounds.check_gcd_lcm("lcm", tuple(range(1, 5000)))
    bounds.check_round(123456, -3)
    for bad in (lambda: bounds.check_modpow(10**200000, 10**30000), lambda: bounds.check_round(1, -10**8),
                lambda: bounds.check_product([10**30000] * 3000), lambda: bounds.check_int_sum([2**900000] * 10**6)):
        with pytest.raises(LimitExceeded):
            bad()


def test_container_walk_is_iterative_and_catches_cycles() -> None:
    deep: dict = {}
    cur = deep
    for _ in range(100_000):
        cur["k"] = cur = {}
    cyclic: dict = {"a": 1}
    cyclic["self"] = cyclic
    hidden = {"a": [0] * 5000 + [deep]}
    for value in (deep, cyclic, hidden, [[[[]]]] * 3 + [deep]):
        with pytest.raises(SandboxDenied):
            check_value(value)
    check_value({"tags": ["a", "b"], "nested": {"x": [1, 2, {"y": (3.0, 4.0)}]}})
    check_value([(1.0, 2.0, 3.0)] * 100_000)


def test_path_nesting_counts_target_levels() -> None:
    p = Sdf.Path("/B")
    for _ in range(5):
        p = Sdf.Path("/A.r").AppendTarget(p)
    assert p.pathElementCount == 3 and path_nesting(p) == 3 * 5 + 1
    rel_attr = Sdf.Path("/A.r[/X.s[/Y]].attr")
    assert path_nesting(rel_attr) == rel_attr.pathElementCount + 3 + 1  # /X.s[/Y] and /Y


# --- through the real in-process Executor -------------------------------------------------------------

@pytest.fixture(scope="module")
def ex(tmp_path_factory: pytest.TempPathFactory):
    with Executor(scratch_root=tmp_path_factory.mktemp("scratch")) as executor:
        yield executor


@pytest.fixture(scope="module")
def trusted():
    return load_policy("trusted")


def _stage() -> Usd.Stage:
    st = Usd.Stage.CreateInMemory()
    st.DefinePrim("/World", "Xform")
    return st


REFUSED_BEFORE_THE_WORK = {
    "newline fill": ("s = format('x', '\\n>300000000')", "memory"),
    "nested key": ("s = '%(a(b)c)300000000s' % {'a(b)c': 'x'}", "memory"),
    "bytearray": ("s = bytearray(b'%300000000s') % b'x'", "memory"),
    "modpow exponent": ("x = pow(3, 10 ** 200000, 10 ** 30000 + 7)", "cpu"),
    "prod": ("import math\nx = math.prod([10 ** 30000] * 3000)", "memory"),
    "sum": ("x = sum([2 ** 900000] * 1000000)", "cpu"),
    "round": ("x = round(5, -(10 ** 8))", "memory"),
}


@pytest.mark.parametrize("name", list(REFUSED_BEFORE_THE_WORK))
def test_one_call_is_refused_before_it_runs(ex: Executor, trusted, name: str) -> None:
    src, limit = REFUSED_BEFORE_THE_WORK[name]
    outcome = ex.run(src, trusted, _stage())
    assert outcome.status == "failed" and outcome.limit == limit, (outcome.status, outcome.limit, outcome.error)


NATIVE_RECURSION = {
    "pathString": "from pxr import Sdf\np = Sdf.Path('/B')\nfor i in range(300000):\n"
                  "    p = Sdf.Path('/A.r').AppendTarget(p)\nprint(len(p.pathString))",
    "customData": "d = {}\ncur = d\nfor i in range(100000):\n    cur['k'] = cur = {}\n"
                  "stage.GetPrimAtPath('/World').SetCustomData(d)",
    "CopySpec": "from pxr import Sdf\nlayer = Sdf.Layer.CreateAnonymous()\np = Sdf.Path('/A')\n"
                "for i in range(900):\n    p = p.AppendChild('A')\nSdf.CreatePrimInLayer(layer, p)\n"
                "for k in range(30):\n    Sdf.CopySpec(layer, '/A', layer, p.AppendChild('A'))\n"
                "print(len(layer.ExportToString()))",
}


@pytest.mark.parametrize("name", list(NATIVE_RECURSION))
def test_native_recursion_is_refused_and_the_host_runs_the_next_job(ex: Executor, trusted, name: str) -> None:
    st = _stage()
    before = st.GetRootLayer().ExportToString()
    outcome = ex.run(NATIVE_RECURSION[name], trusted, st)
    assert outcome.status == "failed" and outcome.error["type"] == "SandboxDenied", outcome.error
    assert str(MAX_DEPTH) in outcome.error["message"] or "200" in outcome.error["message"]
    assert st.GetRootLayer().ExportToString() == before
    nxt = ex.run("stage.DefinePrim('/World/Next')\nresult = 'ok'", trusted, st)
    assert nxt.status == "succeeded" and st.GetPrimAtPath("/World/Next").IsValid()


BENIGN = """
import math
from pxr import Sdf
label = f"{'id':\\n>6}|{3.14159:+.2f}|{'%(n)05d' % {'n': 42}}|{(bytearray(b'%-4s|') % b'ab').decode()}"
p = Sdf.Path('/World/R.rel').AppendTarget(Sdf.Path('/World/T'))
stage.GetPrimAtPath('/World').SetCustomData({'tags': ['a', 'b'], 'meta': {'v': 1, 'pt': (1.0, 2.0)}})
layer = Sdf.Layer.CreateAnonymous()
Sdf.CreatePrimInLayer(layer, '/A/B/C')
Sdf.CopySpec(layer, '/A', layer, '/Copy')
result = [label, p.pathString, pow(3, 65537, 2**2048 + 981) % 1000, math.prod(range(1, 30)) % 97,
          sum([10**300] * 100) % 7, round(123456, -3), len(stage.Flatten().ExportToString()) > 0,
          layer.GetPrimAtPath('/Copy/B/C') is not None]
"""


def test_ordinary_scripts_still_run(ex: Executor, trusted) -> None:
    outcome = ex.run(BENIGN, trusted, _stage())
    assert outcome.status == "succeeded", outcome.error
    label, path, *rest = outcome.value
    assert label == "\n\n\n\nid|+3.14|00042|ab  |"
    assert path == "/World/R.rel[/World/T]"
    assert rest == [pow(3, 65537, 2**2048 + 981) % 1000, math_prod_29() % 97, (10**300 * 100) % 7, 123000, True, True]


def math_prod_29() -> int:
    import math

    return math.prod(range(1, 30))
