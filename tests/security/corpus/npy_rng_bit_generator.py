# expect: reject-at-runtime
# policy: scene-edit
# attack: reach the Generator's bit generator and its ctypes/cffi interfaces (raw state pointers)
import numpy as np
rng = np.random.default_rng(1)
print('KGESC' + 'APE', rng.bit_generator.ctypes.state_address)
