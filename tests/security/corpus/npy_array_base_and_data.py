# expect: reject-at-runtime
# policy: scene-edit
# attack: arr.base / arr.data expose the owning buffer and a memoryview over raw memory
import numpy as np
a = np.arange(10.0)
v = a[2:5]
print('KGESC' + 'APE', v.base, v.data)
