# expect: limit
# policy: scene-edit
# attack: one call allocates terabytes (calloc makes it look cheap until the pages are touched)
import numpy as np
a = np.zeros((10**6, 10**6))
a += 1
print('KGESC' + 'APE', a.shape)
