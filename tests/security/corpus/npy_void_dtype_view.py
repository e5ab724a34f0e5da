# expect: reject-at-runtime
# policy: scene-edit
# attack: structured/void dtypes are raw bytes: reinterpret a float array's memory through a record dtype
import numpy as np
a = np.zeros(4, dtype=[('p', 'f8'), ('o', 'O')])
print('KGESC' + 'APE', a)
