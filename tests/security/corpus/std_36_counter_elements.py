# expect: reject-at-runtime
# policy: scene-edit
# attack: Counter.elements() expands counts into a C-level repeat
from collections import Counter
c = Counter(a=10**12)
print('KGESC' + 'APE', sum(1 for _ in c.elements()))
