# expect: reject-at-runtime
# policy: scene-edit
# attack: np.dtype('O') through a dtype object's type attribute, and via a dtype's class
import numpy as np
dt = np.zeros(1).dtype
print('KGESC' + 'APE', dt.type, type(dt)('O'))
