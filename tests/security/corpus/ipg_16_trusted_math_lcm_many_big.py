# expect: limit
# policy: trusted
# neutralised: math.lcm's result can have the sum of its arguments' bits; bounded before the call
# attack: in-process, lcm of 2,000 distinct 60k-bit odd integers: the running lcm grows without limit.
import math
args = [2 ** 60000 + 2 * i + 1 for i in range(2000)]
print(math.lcm(*args).bit_length())
