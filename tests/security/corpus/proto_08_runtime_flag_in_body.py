# expect: reject-at-runtime
# policy: scene-edit
# neutralised: isinstance()/issubclass()/class patterns refuse Protocol classes, whatever flags their body sets
# attack: set typing's runtime-checkable flag in the class body (no attribute write), then probe a host object
from typing import Protocol
class HasExport(Protocol):
    _is_runtime_protocol = True
    def Export(self, path): ...
print('KGESC' + 'APE', isinstance(stage.GetRootLayer(), HasExport))
