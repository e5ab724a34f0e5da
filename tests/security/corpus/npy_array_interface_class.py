# expect: reject-at-compile
# policy: scene-edit
# attack: a script class with __array_interface__ pointing at an arbitrary address makes np.array read
# attack: host memory
import numpy as np
class Evil:
    __array_interface__ = {'shape': (64,), 'typestr': '|u1', 'data': (4096, True), 'version': 3}
print('KGESC' + 'APE', np.array(Evil()))
