# expect: limit
# policy: scene-edit
# attack: operators broadcast without any hook: a column minus a row is n*n (the child's address-space
# attack: limit turns numpy's failed allocation into a clean MemoryError)
import numpy as np
v = np.ones(10**6)
d = v[:, None] - v[None, :]
print('KGESC' + 'APE', d.size)
