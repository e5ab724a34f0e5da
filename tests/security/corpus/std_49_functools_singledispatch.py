# expect: reject-at-compile
# policy: scene-edit
# attack: functools.singledispatch reads annotations (get_type_hints) at register time
from functools import singledispatch
print('KGESC' + 'APE', singledispatch)
