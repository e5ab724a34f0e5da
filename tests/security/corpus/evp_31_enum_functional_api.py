# expect: reject-at-runtime
# policy: scene-edit
# attack: Enum's functional API builds a class the sandbox did not see; its members stay opaque
from enum import Enum
E = Enum('E', 'A B')
print('KGESC' + 'APE', E.A.value)
