# expect: reject-at-runtime
# policy: scene-edit
# attack: numpy.lib.format reads .npy headers with a literal eval and pickles object arrays
import numpy as np
fmt = np.lib.format
print('KGESC' + 'APE', fmt.read_array)
