# expect: reject-at-runtime
# policy: scene-edit
# attack: np.full with a host object as fill value and a positional object dtype
import numpy as np
a = np.full(2, stage, 'O')
print('KGESC' + 'APE', a[0].GetRootLayer())
