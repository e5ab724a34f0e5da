# expect: reject-at-runtime
# policy: scene-edit
# attack: smuggle arbitrary Python objects (a module proxy, a guarded callable) into an object array, then
# attack: read them back through numpy's unguarded item access to reach their internals
import numpy as np
import json
arr = np.array([json, json.dumps], dtype='object')
print('KGESC' + 'APE', arr[0], arr.tolist())
