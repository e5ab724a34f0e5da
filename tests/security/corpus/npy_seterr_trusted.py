# expect: reject-at-compile
# policy: trusted
# attack: in-process (trusted) numpy state is the host's: seterr/printoptions would change Kit's numpy
import numpy as np
np.set_printoptions(threshold=10**9)
print('KGESC' + 'APE')
