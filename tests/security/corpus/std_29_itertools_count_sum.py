# expect: limit
# policy: scene-edit
# attack: sum(itertools.count()) is one endless C loop in plain Python
import itertools
print('KGESC' + 'APE', sum(itertools.count()))
