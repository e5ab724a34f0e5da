# expect: reject-at-runtime
# policy: scene-edit
# attack: apply_along_axis calls an arbitrary callable from numpy's own Python frames (real builtins)
import numpy as np
print('KGESC' + 'APE', np.apply_along_axis(sum, 0, np.zeros((2, 2))))
