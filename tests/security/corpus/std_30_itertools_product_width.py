# expect: limit
# policy: scene-edit
# attack: product(repeat=huge) allocates the pools before yielding
import itertools
it = itertools.product(range(2), repeat=10**8)
print('KGESC' + 'APE', next(it))
