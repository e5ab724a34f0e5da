# expect: limit
# policy: scene-edit
# attack: itertools.tee(x, n) allocates n iterators at once
import itertools
print('KGESC' + 'APE', len(itertools.tee([1], 10**8)))
