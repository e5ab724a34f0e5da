# expect: reject-at-runtime
# policy: scene-edit
# attack: frompyfunc builds a ufunc returning object arrays from any Python callable
import numpy as np
uf = np.frompyfunc(lambda x: stage, 1, 1)
print('KGESC' + 'APE', uf(np.zeros(2)))
