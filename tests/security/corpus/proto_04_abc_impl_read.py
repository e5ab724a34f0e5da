# expect: reject-at-runtime
# policy: scene-edit
# neutralised: `_abc_*` names are abc's machinery on the class, not the script's own underscore names
# attack: read abc's internal registry object off a Protocol class the script defined
from typing import Protocol
class P(Protocol):
    def f(self): ...
impl = P._abc_impl
print('KGESC' + 'APE', impl)
