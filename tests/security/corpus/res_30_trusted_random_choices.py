# expect: limit
# policy: trusted
# attack: in-process, random.choices(k=...) builds its list in uninstrumented stdlib Python: 10**8
#   items (~800 MB, ~20 s here) in one call, past the 10 s deadline and the allocation guard.
import random
v = random.choices([1, 2], k=10 ** 8)
print(len(v))
