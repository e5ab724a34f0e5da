# expect: limit
# policy: trusted
# neutralised: math.prod estimates the result's bits (sum of the factors' bits) before the call
# attack: in-process, one math.prod call multiplying 3,000 100k-bit integers (minutes in one C call).
import math
x = math.prod([10 ** 30000] * 3000)
print(x.bit_length())
