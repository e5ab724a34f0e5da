# expect: limit
# policy: scene-edit
# attack: max(itertools.cycle(...)) never returns
import itertools
print('KGESC' + 'APE', max(itertools.cycle([1, 2])))
