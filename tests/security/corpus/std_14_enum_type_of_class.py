# expect: reject-at-runtime
# policy: scene-edit
# attack: type() of a script Enum is EnumType: call it to build a class outside the sandbox's class hook
from enum import Enum
class Color(Enum):
    RED = 1
meta = type(Color)
Evil = meta('Evil', (), {})
print('KGESC' + 'APE', Evil)
