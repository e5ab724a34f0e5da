# expect: limit
# policy: trusted
# neutralised: math.prod bounds (factor count x result bits), the work of re-multiplying the running product
# attack: in-process, 400,000 small factors: the result stays under the int size cap, but every step
#   rewrites a running product of up to 630k bits.
import math
x = math.prod(map(int, [3] * 400000))
print(x.bit_length())
