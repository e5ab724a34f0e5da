# expect: reject-at-runtime
# policy: scene-edit
# attack: the unbound Random.choices sidesteps the instance guard
import random
r = random.Random(1)
print('KGESC' + 'APE', len(random.Random.choices(r, [1], k=10**9)))
