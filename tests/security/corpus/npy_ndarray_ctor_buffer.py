# expect: reject-at-runtime
# policy: scene-edit
# attack: the ndarray constructor builds uninitialised arrays or views over any buffer with an offset
import numpy as np
a = np.ndarray((1000,), dtype=np.float64)
b = np.ndarray((4,), dtype=np.uint8, buffer=bytearray(4), offset=0)
print('KGESC' + 'APE', a.sum(), b)
