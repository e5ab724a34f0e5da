"""Everyday Python runs under scene-edit with the same output as plain exec (issue 13, part 3).

Each case is run twice on fresh in-memory stages: plain ``exec`` and the guarded runtime; stdout and the
root layer text must match. The refusals that remain are covered by tests/security/corpus/evp_*.py.
"""

from __future__ import annotations

import contextlib
import io

import pytest
from pxr import Usd

from kitgate.sandbox.compile.compiler import compile_source
from kitgate.sandbox.policy import load_policy
from kitgate.sandbox.runtime.hooks import run_guarded

CASES = {
    "underscore_names": r'''
_ = 1
class A:
    def __init__(self):
        self._stage = stage
        self.__n = 2
    def n(self):
        return self.__n
a = A()
print(a._stage is stage, a.n(), _)
''',
    "main_guard": r'''
def main():
    print('main', __name__)
if __name__ == '__main__':
    main()
''',
    "dunders": r'''
class V:
    def __init__(self, x):
        self.x = x
    def __repr__(self):
        return f'V({self.x})'
    def __eq__(self, o):
        return isinstance(o, V) and o.x == self.x
    def __hash__(self):
        return hash(self.x)
    def __lt__(self, o):
        return self.x < o.x
    def __add__(self, o):
        return V(self.x + o.x)
    def __len__(self):
        return self.x
    def __iter__(self):
        return iter(range(self.x))
    def __getitem__(self, i):
        return i * 2
print(V(1) + V(2), sorted([V(3), V(1)]), len(V(4)), list(V(3)), V(2)[5], len({V(1), V(1)}))
''',
    "context_manager": r'''
class Block:
    def __enter__(self):
        print('enter')
        return self
    def __exit__(self, *exc):
        print('exit')
        return False
with Block() as b:
    print('body', type(b).__name__)
''',
    "introspection": r'''
class A:
    'doc'
x = A()
print(hasattr(x, 'y'), getattr(x, 'y', 3), A.__name__, A.__doc__, x.__class__.__name__)
print(type(1).__name__, type(x) is A, type(stage).__name__)
setattr(x, 'y', 5)
print(x.y, getattr(x, 'y'))
''',
    "super": r'''
class Base(Exception):
    def __init__(self, msg):
        super().__init__(msg)
        self.tag = 'b'
class Child(Base):
    def __init__(self):
        super().__init__('child')
try:
    raise Child()
except Base as e:
    print(e, e.tag)
''',
    "nonlocal": r'''
def counter():
    n = 0
    def inc():
        nonlocal n
        n += 1
        return n
    return inc
c = counter()
c()
print(c())
''',
    "match": r'''
class P:
    __match_args__ = ('x', 'y')
    def __init__(self, x, y):
        self.x, self.y = x, y
def f(v):
    match v:
        case {'kind': k, **rest}:
            return ('map', k, sorted(rest))
        case [a, *more]:
            return ('seq', a, len(more))
        case P(0, y):
            return ('p0', y)
        case P(x=x):
            return ('p', x)
        case int(n) if n > 2:
            return ('int', n)
        case 'a' | 'b':
            return 'ab'
        case _:
            return None
print([f(x) for x in ({'kind': 1, 'z': 2}, [1, 2, 3], P(0, 5), P(1, 2), 7, 'b', 1.5)])
''',
    "class_keywords_and_future": r'''
from __future__ import annotations
from enum import Flag, auto, FlagBoundary
class Base:
    pass
class C(Base):
    x: int = 1
print(C.x)
''',
    "typing_annotations": r'''
from typing import List, Optional, Dict, Tuple
def f(xs: List[int], d: Optional[Dict[str, int]] = None) -> Tuple[int, int]:
    return (len(xs), len(d or {}))
Vec = Tuple[float, float, float]
print(f([1, 2]))
''',
}


def _plain(src: str) -> tuple[str, str]:
    stage = Usd.Stage.CreateInMemory()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(src, "<plain>", "exec"), {"stage": stage, "__name__": "__main__"})  # noqa: S102
    return out.getvalue(), stage.GetRootLayer().ExportToString()


@pytest.mark.parametrize("name", sorted(CASES))
def test_everyday_python_matches_plain_exec(name: str) -> None:
    src = CASES[name].replace("from enum import Flag, auto, FlagBoundary\n", "")
    policy = load_policy("scene-edit")
    compiled = compile_source(src, policy)
    assert compiled.ok, [v.to_dict() for v in compiled.violations]
    stage = Usd.Stage.CreateInMemory()
    report = run_guarded(compiled, policy, stage)
    assert report.status == "succeeded", report.error
    plain_out, plain_layer = _plain(src)
    assert report.stdout == plain_out
    assert stage.GetRootLayer().ExportToString() == plain_layer


@pytest.mark.parametrize(("src", "rule"), [
    ("class A:\n    def __del__(self):\n        pass\n", "restricted-python"),
    ("class A:\n    def __init_subclass__(cls):\n        pass\n", "restricted-python"),
    ("x = _write_\n", "restricted-python"),
    ("class A(metaclass=int):\n    pass\n", "syntax-not-allowed"),
    ("E = type('E', (), {})\n", "type-call"),
])
def test_refused_shapes_teach(src: str, rule: str) -> None:
    result = compile_source(src, load_policy("scene-edit"))
    assert not result.ok
    assert any(v.rule == rule and v.hint for v in result.violations), [v.to_dict() for v in result.violations]
