# expect: reject-at-runtime
# policy: scene-edit
# neutralised: a subscripted generic is a typing alias: no attribute of it is listed
# attack: walk from Box[int] to typing internals (copy_with, __origin__) to reach typing's module globals
from typing import Generic, TypeVar
T = TypeVar('T')
class Box(Generic[T]):
    pass
alias = Box[int]
print('KGESC' + 'APE', alias.copy_with((str,)))
