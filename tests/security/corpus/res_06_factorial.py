# expect: limit
# attack: math.factorial(10**8) runs for minutes inside C.
import math
f = math.factorial(10 ** 8)
