# expect: limit
# policy: scene-edit
# attack: Random().choices(k=huge) is a pure-Python loop outside the ticks
import random
r = random.Random(1)
print('KGESC' + 'APE', len(r.choices([1, 2], k=10**9)))
