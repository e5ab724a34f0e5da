# expect: limit
# policy: scene-edit
# attack: arange/linspace with a float stop in the trillions
import numpy as np
a = np.arange(0, 1e12)
print('KGESC' + 'APE', a.size)
