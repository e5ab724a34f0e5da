# expect: reject-at-runtime
# policy: scene-edit
# attack: json.dumps default= hook asks for a function's globals through getattr
import json
def leak(o):
    return getattr(o, '__glob' + 'als__')
print('KGESC' + 'APE', json.dumps([leak], default=leak))
