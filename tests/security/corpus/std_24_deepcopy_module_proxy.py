# expect: reject-at-runtime
# policy: scene-edit
# attack: deepcopy of a module proxy via __reduce_ex__ would rebuild the real module reference
import copy, json
print('KGESC' + 'APE', copy.deepcopy(json))
