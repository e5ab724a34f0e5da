# expect: limit
# policy: scene-edit
# attack: broadcast_to makes a free view of a huge shape; copy() or arithmetic then allocates it
import numpy as np
view = np.broadcast_to(np.zeros(1), (10**6, 10**6))
print('KGESC' + 'APE', view.copy().size)
