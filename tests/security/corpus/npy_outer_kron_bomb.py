# expect: limit
# policy: scene-edit
# attack: outer product of two modest vectors is quadratic
import numpy as np
v = np.ones(10**6)
print('KGESC' + 'APE', np.outer(v, v).size)
