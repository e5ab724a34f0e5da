# expect: reject-at-runtime
# policy: scene-edit
# attack: change process-global numpy state (error handling, print options) that outlives the job
import numpy as np
np.seterr(all='ignore')
np.set_printoptions(threshold=10**9)
print('KGESC' + 'APE')
