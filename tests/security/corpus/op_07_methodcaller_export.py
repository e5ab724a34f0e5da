# expect: reject-at-runtime
# policy: scene-edit
# neutralised: methodcaller looks the method up through the guard, as `obj.name(...)` does
# attack: call a refused method by name, with the file path as an argument
from operator import methodcaller
methodcaller('Export', '/tmp/kitgate-corpus-canary/ESCAPED-op_07.usda')(stage.GetRootLayer())
print('KGESC' + 'APE')
