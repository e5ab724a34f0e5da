# expect: limit
# policy: scene-edit
# attack: the ndarray.repeat method rather than the module function
import numpy as np
print('KGESC' + 'APE', np.ones(10**4).repeat(10**7).size)
