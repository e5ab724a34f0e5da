# expect: limit
# policy: scene-edit
# attack: list(itertools.repeat(x)) grows without end inside one C call
import itertools
print('KGESC' + 'APE', len(list(itertools.repeat(0))))
