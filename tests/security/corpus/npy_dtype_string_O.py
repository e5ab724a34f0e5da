# expect: reject-at-runtime
# policy: scene-edit
# attack: ask for the object dtype by its one-letter code through zeros/full/astype
import numpy as np
a = np.zeros(3).astype('O')
a[0] = stage
print('KGESC' + 'APE', a)
