# expect: limit
# policy: scene-edit
# attack: getrandbits(k) allocates a k-bit integer in one call
import random
print('KGESC' + 'APE', random.getrandbits(10**12).bit_length())
