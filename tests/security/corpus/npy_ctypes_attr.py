# expect: reject-at-runtime
# policy: scene-edit
# attack: ndarray.ctypes hands out the raw data pointer and ctypes itself (arbitrary memory reads/writes)
import numpy as np
a = np.zeros(4)
c = a.ctypes
print('KGESC' + 'APE', c.data, c._ctypes)
