# expect: limit
# policy: scene-edit
# attack: Generator sampling with a huge size tuple
import numpy as np
rng = np.random.default_rng(1)
print('KGESC' + 'APE', rng.normal(size=(10**5, 10**5)).size)
