# expect: reject-at-runtime
# policy: scene-edit
# attack: the same sunder internals through getattr with a built string
from enum import Enum
class Color(Enum):
    RED = 1
print('KGESC' + 'APE', getattr(Color, '_member_' + 'map_'))
