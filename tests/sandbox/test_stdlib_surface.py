"""The vetted standard-library surface (issue 13, parts 1, 2 and 4): benign uses match plain Python, the
policy loader keeps `re` out of in-process policies, and sized calls are refused before they run.
Attacks on this surface live in tests/security/corpus/std_*.py."""

from __future__ import annotations

import contextlib
import io

import pytest
from kitgate.sandbox.compiler import compile_source
from kitgate.sandbox.policy import PolicyError, load_policy, parse_policy
from kitgate.sandbox.runtime import run_guarded
from pxr import Usd

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
