# expect: limit
# policy: scene-edit
# attack: einsum output of an outer product in index notation
import numpy as np
v = np.ones(10**6)
print('KGESC' + 'APE', np.einsum('i,j->ij', v, v).size)
