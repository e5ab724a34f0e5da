# expect: reject-at-runtime
# policy: scene-edit
# neutralised: class patterns and isinstance() refuse Protocol classes (their checks run typing's own probes)
# attack: a class pattern calls the protocol's __instancecheck__ from C, around the isinstance() builtin
from typing import Protocol
class P(Protocol):
    def GetRootLayer(self): ...
setattr(P, '_is_runtime_protocol', True)
match stage:
    case P():
        print('KGESC' + 'APE')
