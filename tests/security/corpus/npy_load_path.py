# expect: reject-at-runtime
# policy: scene-edit
# attack: np.load of a host file (and allow_pickle to run code)
import numpy as np
data = np.load('/tmp/kitgate-corpus-canary/secret.txt', allow_pickle=True)
print('KGESC' + 'APE', data)
