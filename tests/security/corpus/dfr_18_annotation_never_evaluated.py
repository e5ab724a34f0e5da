# expect: accept
# policy: scene-edit
# neutralised: annotations are never evaluated: stripped at module/function level, kept as strings in
#   class bodies (what dataclasses reads); nothing prints.
# attack: annotations that would run code when evaluated; neutralised: they are stripped (module/function) or kept as strings (class bodies)
from __future__ import annotations
x: print('KGESC' + 'APE') = 1
def f(a: print('KGESC' + 'APE')) -> print('KGESC' + 'APE'):
    return a
class C:
    y: print('KGESC' + 'APE') = 2
result = [x, f(3), C.y]
