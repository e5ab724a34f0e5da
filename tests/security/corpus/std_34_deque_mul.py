# expect: limit
# policy: scene-edit
# attack: deque * n is a C-level repetition the operator guard does not know
from collections import deque
d = deque([0] * 1000) * 10**7
print('KGESC' + 'APE', len(d))
