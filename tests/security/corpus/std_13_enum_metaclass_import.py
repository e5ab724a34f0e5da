# expect: reject-at-compile
# policy: scene-edit
# attack: import the enum metaclass to build classes with it
from enum import EnumMeta, EnumType
E = EnumType('E', (), {})
print('KGESC' + 'APE', E)
