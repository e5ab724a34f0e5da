# expect: reject-at-runtime
# policy: scene-edit
# neutralised: ForwardRef objects are never evaluated, and TypeVar's dunders are not readable
# attack: a TypeVar bound given as a string becomes a ForwardRef; reach it to evaluate the code it names
from typing import TypeVar
T = TypeVar('T', bound="__import__('os').system('touch /tmp/kitgate-corpus-canary/ESCAPED-proto_06')")
ref = getattr(T, '__bound__')
print('KGESC' + 'APE', ref)
