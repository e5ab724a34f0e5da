# expect: reject-at-runtime
# policy: scene-edit
# attack: np.vectorize / frompyfunc call a callable from C for every element, outside the step ticks,
# attack: and can wrap guarded builtins (getattr) to apply them to host objects
import numpy as np
f = np.vectorize(getattr)
print('KGESC' + 'APE', f(np.array([1]), '__class__'))
