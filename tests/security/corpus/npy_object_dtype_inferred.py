# expect: reject-at-runtime
# policy: scene-edit
# attack: let numpy infer dtype=object itself (mixed None / numbers, ragged rows) instead of asking for it
import numpy as np
arr = np.array([1.0, None, stage])
print('KGESC' + 'APE', arr.dtype, arr[2])
