# expect: limit
# policy: trusted
# neutralised: the same guarded functions in-process, where no child's memory limit would catch it
# attack: a 10-gigabyte repetition on the host's main thread through operator.mul
from operator import mul
print('KGESC' + 'APE', len(mul([0], 10**10)))
