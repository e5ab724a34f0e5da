# expect: reject-at-runtime
# policy: scene-edit
# attack: numpy.testing runs subprocesses and numpy.f2py compiles code; reach them as attributes
import numpy as np
print('KGESC' + 'APE', np.testing, np.f2py)
