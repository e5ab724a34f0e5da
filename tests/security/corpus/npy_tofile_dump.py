# expect: reject-at-runtime
# policy: scene-edit
# attack: write files through ndarray.tofile / dump (pickle) from an allowed array
import numpy as np
a = np.arange(4.0)
a.tofile('/tmp/kitgate-corpus-canary/ESCAPED-npy-tofile')
a.dump('/tmp/kitgate-corpus-canary/ESCAPED-npy-dump')
print('KGESC' + 'APE')
