# expect: reject-at-compile
# policy: scene-edit
# attack: typing.get_type_hints evaluates annotation strings
from typing import get_type_hints
class A:
    x: "__import__('os').system('touch /tmp/kitgate-corpus-canary/ESCAPED-std_17')"
print('KGESC' + 'APE', get_type_hints(A))
