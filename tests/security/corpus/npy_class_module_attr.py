# expect: reject-at-compile
# policy: scene-edit
# attack: type(arr).__module__ then sys.modules through a class attribute chain
import numpy as np
a = np.zeros(3)
t = type(a)
print('KGESC' + 'APE', t.__module__, t.__mro__)
