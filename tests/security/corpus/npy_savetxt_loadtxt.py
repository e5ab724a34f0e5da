# expect: reject-at-runtime
# policy: scene-edit
# attack: text I/O helpers read and write host files
import numpy as np
np.savetxt('/tmp/kitgate-corpus-canary/ESCAPED-npy-savetxt', np.zeros(2))
print('KGESC' + 'APE', np.loadtxt('/tmp/kitgate-corpus-canary/secret.txt', dtype=str))
