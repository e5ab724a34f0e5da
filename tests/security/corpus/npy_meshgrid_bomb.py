# expect: limit
# policy: scene-edit
# attack: meshgrid of three 10**4 axes is 10**12 points per grid
import numpy as np
x = np.arange(10**4)
g = np.meshgrid(x, x, x)
print('KGESC' + 'APE', len(g))
