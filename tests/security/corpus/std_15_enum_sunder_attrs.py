# expect: reject-at-compile
# policy: scene-edit
# attack: Enum's _member_map_/_missing_ sunder internals
from enum import Enum
class Color(Enum):
    RED = 1
print('KGESC' + 'APE', Color._member_map_)
