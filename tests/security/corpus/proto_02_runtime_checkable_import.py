# expect: reject-at-compile
# policy: scene-edit
# neutralised: typing.runtime_checkable is not listed (isinstance against a protocol runs getattr on the object)
# attack: a runtime-checkable protocol probes host objects' attributes with the real getattr
from typing import Protocol, runtime_checkable
@runtime_checkable
class P(Protocol):
    def Save(self): ...
print('KGESC' + 'APE', isinstance(stage.GetRootLayer(), P))
