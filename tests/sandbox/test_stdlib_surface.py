"""The vetted standard-library surface (issue 13, parts 1, 2 and 4): benign uses match plain Python, the
policy loader keeps `re` out of in-process policies, and sized calls are refused before they run.
Attacks on this surface live in tests/security/corpus/std_*.py."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import pytest
from pxr import Usd

from kitgate.sandbox.compile.compiler import compile_source
from kitgate.sandbox.policy import PolicyError, load_policy, parse_policy
from kitgate.sandbox.runtime.hooks import run_guarded

BENIGN = {
    "typing_everywhere": r'''
from typing import List, Optional, Dict, Tuple, Any, Callable, Iterable
def f(x: Optional[List[int]] = None) -> Dict[str, Any]:
    return {'n': len(x or [])}
print(f([1, 2]))
''',
    "dataclass_enum_namedtuple": r'''
from dataclasses import dataclass, field, asdict, replace
from enum import Enum, auto
from typing import List, NamedTuple
from collections import namedtuple
@dataclass(frozen=True)
class L:
    name: str
    tags: List[str] = field(default_factory=list)
class K(Enum):
    A = auto()
    B = auto()
class P(NamedTuple):
    x: float
    y: float = 0
T = namedtuple('T', 'a b')
l = L('k', ['x'])
print(asdict(l), replace(l, name='z'), K.B.value, [k.name for k in K], P(1), T(1, 2)._asdict())
''',
    "collections_itertools_functools": r'''
import collections, itertools, functools
c = collections.Counter('abracadabra')
d = collections.defaultdict(list)
d['a'].append(1)
q = collections.deque([1, 2], maxlen=3)
q.append(3)
q.append(4)
print(c.most_common(2), dict(d), list(q), list(itertools.combinations('abc', 2)),
      list(itertools.chain.from_iterable([[1], [2]])), [k for k, _ in itertools.groupby('aabb')],
      functools.reduce(lambda a, b: a * b, range(1, 6)), functools.partial(max, 3)(1))
''',
    "json_copy_text": r'''
import json, copy, string, textwrap, colorsys, statistics
data = {'a': [1, 2, {'b': None}], 'c': 'x'}
text = json.dumps(data, indent=2, sort_keys=True)
back = json.loads(text)
dc = copy.deepcopy(data)
dc['a'][2]['b'] = 1
print(text, back == data, data['a'][2], string.capwords('a b'), textwrap.shorten('hello there world', 12),
      colorsys.hsv_to_rgb(0.5, 1, 1), statistics.median([3, 1, 2]), statistics.quantiles([1, 2, 3, 4]))
''',
    "random_instance_like_module": r'''
import random
r = random.Random(7)
x = [r.random(), r.choice('abc'), r.choices([1, 2], k=3), r.sample(range(9), 2)]
ys = [1, 2, 3]
r.shuffle(ys)
print(x, ys, r.getrandbits(8) < 256)
''',
    "re_patterns": r'''
import re
pat = re.compile(r'(?P<name>\w+)=(?P<v>\d+)')
m = pat.search('a=1 b=22')
print(m.group('name'), m.span(), pat.findall('x=1 y=2'), re.sub(r'\s+', ' ', 'a   b'), re.split(',', 'a,b'))
''',
    "tf_kind_pcp": r'''
from pxr import Tf, Kind
print(Tf.MakeValidIdentifier('1 bad name'), Tf.IsValidIdentifier('ok'),
      Kind.Registry.IsA(Kind.Tokens.component, Kind.Tokens.model), Tf.Type.FindByName('UsdGeomCube').typeName)
p = stage.DefinePrim('/W', 'Xform')
idx = p.GetPrimIndex()
print(idx.IsValid(), idx.rootNode.arcType)
try:
    stage.GetPrimAtPath('/W').GetAttribute('x').Set(1)
except Tf.ErrorException as e:
    print('tf error')
''',
}


def _plain(src: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        scope = {"stage": Usd.Stage.CreateInMemory(), "__name__": "__main__"}
        exec(compile(src, "<plain>", "exec"), scope)  # noqa: S102
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_benign_stdlib_matches_plain(name: str) -> None:
    policy = load_policy("scene-edit")
    compiled = compile_source(BENIGN[name], policy)
    assert compiled.ok, [v.to_dict() for v in compiled.violations]
    report = run_guarded(compiled, policy, Usd.Stage.CreateInMemory(), rng_seed=1)
    assert report.status == "succeeded", report.error
    if name != "random_instance_like_module":  # module-level functions draw from the job's own seeded rng
        assert report.stdout == _plain(BENIGN[name])


@pytest.mark.parametrize("policy_name", ["readonly", "scene-edit", "trusted"])
def test_typing_and_future_in_every_policy(policy_name: str) -> None:
    src = "from __future__ import annotations\nfrom typing import List, Optional\nx: List[int] = [1]\nlen(x)\n"
    policy = load_policy(policy_name)
    compiled = compile_source(src, policy)
    assert compiled.ok, [v.to_dict() for v in compiled.violations]


def test_get_type_hints_and_forwardref_stay_out() -> None:
    sources = ("from typing import get_type_hints\n", "from typing import ForwardRef\n",
               "import typing\ntyping.get_type_hints\n")
    for src in sources:
        policy = load_policy("scene-edit")
        compiled = compile_source(src, policy)
        if compiled.ok:
            report = run_guarded(compiled, policy, Usd.Stage.CreateInMemory())
            assert report.status == "failed" and report.error["type"] == "SandboxDenied", report
        else:
            assert any(v.rule == "import" for v in compiled.violations)


def test_re_is_refused_in_in_process_policies() -> None:
    source = load_policy("trusted").source.replace('[modules."typing"]', '[modules."re"]\nattributes = ["compile"]\n\n'
                                                   '[modules."typing"]', 1)
    with pytest.raises(PolicyError, match="only allowed in isolated policies"):
        parse_policy(source.encode(), expected_name="trusted")
    assert "re" not in load_policy("trusted").modules and "re" in load_policy("scene-edit").modules


@pytest.mark.parametrize(("src", "limit"), [
    ("import itertools\nsum(itertools.count())\n", "loop_iterations"),
    ("import json\nrow = [1] * 1000\njson.dumps([row] * 10**6)\n", "memory"),
    ("import random\nrandom.Random(1).choices([1], k=10**9)\n", "loop_iterations"),
    ("import collections\ncollections.deque([0] * 1000) * 10**7\n", "memory"),
])
def test_sized_calls_are_limited(src: str, limit: str) -> None:
    policy = load_policy("scene-edit")
    report = run_guarded(compile_source(src, policy), policy, Usd.Stage.CreateInMemory())
    assert report.status == "failed" and report.limit in (limit, "loop_iterations"), report


def test_refusals_teach() -> None:
    policy = load_policy("scene-edit")
    report = run_guarded(compile_source("from pxr import Usd\nUsd.Stage.CreateNew('HelloWorld.usda')\n", policy),
                         policy, Usd.Stage.CreateInMemory())
    assert "Usd.Stage.CreateInMemory()" in report.error["message"] and "`stage`" in report.error["message"]
    report = run_guarded(compile_source("stage.DefinePrim('/A').GetReferences().AddReference('C:/path/to/file.usd')\n",
                                        policy), policy, Usd.Stage.CreateInMemory())
    assert report.error["type"] == "AssetDenied"
    assert "Windows drive path" in report.error["message"] and "URL" not in report.error["message"]


# --- issue 13 follow-up: str.translate, typing.Protocol/Generic, operator, decimal/fractions, Sdf display names

MORE_BENIGN = {
    "translate_table": r'''
table = str.maketrans({c: '_' for c in '- .:'})
print('hero car:v2.1'.translate(table), 'abc'.translate(str.maketrans('ab', 'xy', 'c')))
big = ('a' * 10 + 'b' * 200000).translate({ord('a'): 'x' * 1000})
print(len(big))
''',
    "protocol_generic": r'''
from __future__ import annotations
from typing import Generic, Protocol, Sequence, TypeVar
T = TypeVar('T')
class Named(Protocol):
    def name(self) -> str: ...
class Box(Generic[T]):
    def __init__(self, item: T) -> None:
        self.item = item
    def get(self) -> T:
        return self.item
class Thing:
    def name(self) -> str:
        return 'thing'
class Impl(Named):
    def name(self) -> str:
        return 'impl'
def names(xs: Sequence[Named]) -> list[str]:
    return [x.name() for x in xs]
print(names([Thing(), Impl()]), Box[int](3).get(), isinstance(Impl(), Impl))
''',
    "operator_subset": r'''
import functools, operator
from collections import namedtuple
from operator import attrgetter, itemgetter, methodcaller
P = namedtuple('P', 'name size')
rows = [P('b', 2), P('a', 2), P('c', 1)]
print(sorted(rows, key=attrgetter('size', 'name')), sorted([(1, 'z'), (0, 'y')], key=itemgetter(0)))
print(functools.reduce(operator.mul, [1, 2, 3, 4]), operator.add('a', 'b'), operator.pow(2, 10), operator.mod('%d', 3))
print(list(map(methodcaller('upper'), ['x', 'y'])), operator.truth(0), operator.lshift(1, 4), operator.getitem([5], 0))
''',
    "decimal_fraction": r'''
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
x = (Decimal('23.5') * Decimal('0.0254')).quantize(Decimal('0.0001'), ROUND_HALF_UP)
f = Fraction('23') + Fraction('1/2') + Fraction('1.5e2')
print(x, float(x), f, float(f), Fraction(3, 4) ** 2, round(Fraction(1, 3), 4), Decimal(1) / 7, int(Decimal('1e20')))
''',
    "sdf_display_name": r'''
from pxr import Sdf
print([Sdf.Layer.GetDisplayNameFromIdentifier(p) for p in ('/a/b/chair.usda', 'x.usdz[in/y.usd]', 'c.usda')])
''',
}


@pytest.mark.parametrize("name", sorted(MORE_BENIGN))
def test_more_benign_stdlib_matches_plain(name: str) -> None:
    policy = load_policy("scene-edit")
    compiled = compile_source(MORE_BENIGN[name], policy)
    assert compiled.ok, [v.to_dict() for v in compiled.violations]
    report = run_guarded(compiled, policy, Usd.Stage.CreateInMemory(), rng_seed=1)
    assert report.status == "succeeded", report.error
    assert report.stdout == _plain(MORE_BENIGN[name])


def _run(src: str, policy_name: str = "scene-edit") -> Any:
    policy = load_policy(policy_name)
    compiled = compile_source(src, policy)
    assert compiled.ok, [v.to_dict() for v in compiled.violations]
    return run_guarded(compiled, policy, Usd.Stage.CreateInMemory(), rng_seed=1)


@pytest.mark.parametrize(("function_form", "symbol_form"), [
    ("operator.mul('x', 10**9)", "'x' * 10**9"),
    ("operator.mul([0], 10**9)", "[0] * 10**9"),
    ("operator.pow(10, 10**8)", "10 ** 10**8"),
    ("operator.lshift(1, 10**10)", "1 << 10**10"),
    ("operator.mod('%0999999999d', 1)", "'%0999999999d' % 1"),
    ("operator.concat(half, half)", "half + half"),
])
@pytest.mark.parametrize("policy_name", ["scene-edit", "trusted"])
def test_operator_functions_hit_the_same_limit_as_symbols(function_form: str, symbol_form: str,
                                                          policy_name: str) -> None:
    from kitgate.sandbox.runtime.guards import Allocation

    half = f"half = 'x' * {Allocation(load_policy(policy_name).limits.memory_mb).max_items // 2 + 1}\n"
    via_function = _run(f"import operator\n{half}{function_form}\n", policy_name)
    via_symbol = _run(f"{half}{symbol_form}\n", policy_name)
    assert via_function.limit == via_symbol.limit == "memory", (via_function.error, via_symbol.error)
    assert via_function.error["message"] == via_symbol.error["message"]


def test_attrgetter_and_methodcaller_use_the_dot_guard() -> None:
    ok = _run("from operator import attrgetter\nattrgetter('GetRootLayer')(stage)().anonymous\n")
    assert ok.status == "succeeded" and ok.value is True, ok.error
    via_dot = _run("stage.GetRootLayer().Export\n")
    for src in ("from operator import attrgetter\nattrgetter('GetRootLayer')(stage)().Export\n",
                "from operator import attrgetter\nattrgetter('Export')(stage.GetRootLayer())\n",
                "from operator import methodcaller\nmethodcaller('Export', '/tmp/x.usda')(stage.GetRootLayer())\n"):
        report = _run(src)
        assert report.error["type"] == "SandboxDenied" and report.error["message"] == via_dot.error["message"], report
    dotted = _run("from operator import attrgetter\nattrgetter('a.__class__')\n")
    assert dotted.error["type"] == "SandboxDenied" and "lambda" in dotted.error["message"]


def test_operator_exposes_only_vetted_names() -> None:
    source = load_policy("scene-edit").source.replace('"itemgetter", ', '"itemgetter", "setitem", ', 1)
    with pytest.raises(PolicyError, match="vetted names.*setitem"):
        parse_policy(source.encode(), expected_name="scene-edit")


def test_translate_refuses_other_tables_and_counts_growth() -> None:
    for table in ("collections.defaultdict(str)", "['x' * 10]", "Table()"):
        report = _run(f"import collections\nclass Table:\n    def __getitem__(self, k):\n        return 'x'\n"
                      f"'abc'.translate({table})\n")
        assert report.error["type"] == "SandboxDenied" and "str.maketrans" in report.error["message"], report
    report = _run("t = str.maketrans({'a': 'x' * 1000})\n('a' * 100000).translate(t)\n")
    assert report.limit == "memory" and "str.translate()" in report.error["message"]


def test_protocols_are_for_annotations_only() -> None:
    base = "from typing import Protocol\nclass P(Protocol):\n    def f(self): ...\n"
    for tail in ("isinstance(1, P)\n", "issubclass(int, P)\n", "match 1:\n    case P():\n        pass\n",
                 "P._abc_impl\n"):
        report = _run(base + tail)
        assert report.error["type"] == "SandboxDenied", (tail, report)
    report = _run("from typing import Protocol\nclass P(Protocol):\n    _is_runtime_protocol = True\n")
    assert report.error["type"] == "SandboxDenied" and "_is_runtime_protocol" in report.error["message"]


def test_decimal_runs_in_a_bounded_job_context_and_restores_the_host_one() -> None:
    import decimal

    before = decimal.getcontext()
    report = _run("from decimal import Decimal\nd = Decimal('9e3000')\nd * d * d * d\n")
    assert report.status == "failed" and report.error["type"] == "Overflow", report
    assert decimal.getcontext() is before
    # squaring up to the default context's Emax (999999) would give a 3.3M-bit int(); the job context stops
    # near 1e9999, so the largest int() a script can get is about 33,000 bits
    squaring = _run("from decimal import Decimal\nd = Decimal('9e3000')\ntry:\n    for _ in range(12):\n"
                    "        d = d * d\nexcept ArithmeticError:\n    pass\nint(d).bit_length()\n")
    assert squaring.status == "succeeded" and squaring.value < 40_000, (squaring.error, squaring.value)
    plain = decimal.Decimal("9e3000")
    for _ in range(7):
        plain = plain * plain
    assert int(plain).bit_length() > 1_000_000  # what the default context allows, for comparison
    for src in ("from decimal import Decimal\nDecimal('1e999999999')\n",
                "from decimal import Decimal\nDecimal((0, (1,), 10**9))\n",
                "from decimal import Decimal\nDecimal(10**20000)\n",
                "from fractions import Fraction\nFraction('1e999999999')\n",
                "from fractions import Fraction\nFraction(3, 7) ** 10**8\n",
                "from fractions import Fraction\n2 ** Fraction(10**8)\n",
                "from fractions import Fraction\nround(Fraction(1, 3), 10**9)\n"):
        report = _run(src)
        assert report.limit == "memory", (src, report.error)


def test_decimal_and_fractions_are_isolated_only_and_vetted() -> None:
    assert "decimal" not in load_policy("trusted").modules and "fractions" not in load_policy("trusted").modules
    trusted = load_policy("trusted").source
    with pytest.raises(PolicyError, match="only allowed in isolated policies"):
        parse_policy(trusted.replace('[modules."typing"]', '[modules."decimal"]\nattributes = ["Decimal"]\n\n'
                                     '[modules."typing"]', 1).encode(), expected_name="trusted")
    scene = load_policy("scene-edit").source.replace('"Decimal", ', '"Decimal", "getcontext", ', 1)
    with pytest.raises(PolicyError, match="vetted names.*getcontext"):
        parse_policy(scene.encode(), expected_name="scene-edit")


_DISPLAY_NAME_PROBE = r'''
import sys
from pxr import Sdf
fifo = sys.argv[1]
for ident in (fifo, fifo + ':SDF_FORMAT_ARGS:a=b', '/tmp/kg-no-such.usdz[' + fifo + ']'):
    print(Sdf.Layer.GetDisplayNameFromIdentifier(ident))
'''


def test_layer_display_name_is_string_work_only(tmp_path: Any) -> None:
    """Sdf.Layer.GetDisplayNameFromIdentifier on a FIFO: opening it for reading would block until the timeout,
    so returning at all shows the file is not opened; under strace (when installed) no system call names it."""
    import os
    import shutil
    import subprocess
    import sys

    fifo = tmp_path / "probe.usda"
    os.mkfifo(fifo)
    cmd = [sys.executable, "-c", _DISPLAY_NAME_PROBE, str(fifo)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["probe.usda", "probe.usda", f"kg-no-such.usdz[{fifo}]"]
    in_sandbox = _run(f"from pxr import Sdf\nSdf.Layer.GetDisplayNameFromIdentifier({str(fifo)!r})\n")
    assert in_sandbox.status == "succeeded" and in_sandbox.value == "probe.usda", in_sandbox.error
    strace = shutil.which("strace")
    if strace is None:
        return
    log = tmp_path / "trace.txt"
    traced = subprocess.run([strace, "-f", "-e", "trace=%file", "-o", str(log), *cmd], capture_output=True,
                            text=True, timeout=120)
    if traced.returncode != 0 and "ptrace" in traced.stderr:
        return  # ptrace not permitted in this container: the FIFO check above stands alone
    assert traced.returncode == 0, traced.stderr
    touching = [line for line in log.read_text().splitlines() if "probe.usda" in line and "execve(" not in line]
    assert not touching, touching
