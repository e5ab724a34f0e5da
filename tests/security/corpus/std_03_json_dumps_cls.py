# expect: reject-at-runtime
# policy: scene-edit
# attack: json.dumps(cls=...) swaps in an encoder class whose hooks run host-side
import json
print('KGESC' + 'APE', json.dumps({}, cls=dict))
