# expect: limit
# policy: scene-edit
# attack: deque.extend(itself) doubles per call
from collections import deque
d = deque(range(1000))
for _ in range(40):
    d.extend(d)
print('KGESC' + 'APE', len(d))
