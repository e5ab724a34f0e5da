# expect: reject-at-runtime
# policy: scene-edit
# neutralised: typing's machinery flags (_is_runtime_protocol, _is_protocol, _abc_*) are not the script's to set
# attack: flip a Protocol to runtime-checkable by hand, so isinstance() probes a host object with the real getattr
from typing import Protocol
class HasExport(Protocol):
    def Export(self, path): ...
HasExport._is_runtime_protocol = True
print('KGESC' + 'APE', isinstance(stage.GetRootLayer(), HasExport))
