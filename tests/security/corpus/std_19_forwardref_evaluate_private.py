# expect: reject-at-runtime
# policy: scene-edit
# attack: a ForwardRef made by List['...'] and its private _evaluate
from typing import List, get_args
ref = get_args(List["__import__('os')"])[0]
print('KGESC' + 'APE', ref._evaluate({}, {}, frozenset()))
