# expect: reject-at-runtime
# policy: scene-edit
# neutralised: issubclass() refuses Protocol classes; a protocol's subclass hook walks other classes' dicts
# attack: use a script protocol in issubclass() to probe host classes' namespaces through typing's hook
from typing import Protocol
class P(Protocol):
    def Export(self): ...
P._is_runtime_protocol = True
print('KGESC' + 'APE', issubclass(type(stage.GetRootLayer()), P))
