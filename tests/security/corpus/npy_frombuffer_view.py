# expect: reject-at-runtime
# policy: scene-edit
# attack: frombuffer over a bytes object, then a writable view of immutable (interned) bytes memory
import numpy as np
b = b'KGCANARY-bytes'
a = np.frombuffer(b, dtype=np.uint8)
print('KGESC' + 'APE', a.view(np.int64))
