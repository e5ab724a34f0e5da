# expect: reject-at-compile
# policy: trusted
# neutralised: decimal and fractions are isolated-only (the loader refuses them in in_process policies)
# attack: in-process the decimal context is the host's own and a big-int op cannot be killed
from decimal import Decimal
print('KGESC' + 'APE', Decimal(1) / 3)
