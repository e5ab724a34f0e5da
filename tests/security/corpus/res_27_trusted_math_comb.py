# expect: limit
# policy: trusted
# attack: in-process, math.comb(10**7, 5*10**6): a huge C-level big-integer computation in the host.
import math
x = math.comb(10 ** 7, 5 * 10 ** 6)
