# expect: reject-at-runtime
# policy: readonly
# attack: numpy's char/rec helpers (np.char, np.rec.fromfile) and loadtxt through getattr with a computed name
import numpy as np
name = 'from' + 'file'
f = getattr(np, name)
print('KGESC' + 'APE', f('/tmp/kitgate-corpus-canary/secret.txt'))
