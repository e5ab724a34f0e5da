# expect: limit
# policy: scene-edit
# attack: bytes(n)/bytearray(n) sized by a numpy integer (its __index__ allocates without the int check)
import numpy as np
n = np.int64(4) * 10**9
print('KGESC' + 'APE', len(bytearray(n)))
