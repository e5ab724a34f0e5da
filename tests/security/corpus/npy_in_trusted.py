# expect: reject-at-compile
# policy: trusted
# attack: numpy in-process: a long matmul or eig cannot be interrupted on Kit's main thread
import numpy as np
a = np.ones((4000, 4000))
print('KGESC' + 'APE', (a @ a).sum())
