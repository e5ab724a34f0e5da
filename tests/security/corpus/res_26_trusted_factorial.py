# expect: limit
# policy: trusted
# attack: in-process, math.factorial(10**7) runs for minutes inside one C call in the host.
import math
x = math.factorial(10 ** 7)
