# expect: limit
# policy: scene-edit
# attack: a numpy integer is not an int, so `'x' * np.int64(n)` slipped past the sequence-repetition guard
import numpy as np
n = np.arange(3, dtype=np.int64)[2] * 10**9
s = 'KGESCAPE' * n
print('KGESC' + 'APE', len(s))
