# expect: reject-at-runtime
# policy: scene-edit
# attack: hand a Vt array an object array (Python objects through FromNumpy's buffer conversion)
import numpy as np
from pxr import Vt
objs = np.asarray([stage, None], dtype=np.object_)
print('KGESC' + 'APE', Vt.FloatArray.FromNumpy(objs))
