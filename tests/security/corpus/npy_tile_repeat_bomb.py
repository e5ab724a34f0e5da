# expect: limit
# policy: scene-edit
# attack: grow a small array a billion times with tile (then repeat, outer and kron as fallbacks)
import numpy as np
small = np.ones(1000)
big = np.tile(small, 10**7)
print('KGESC' + 'APE', big.size)
