# expect: reject-at-runtime
# policy: scene-edit
# neutralised: only the guarded constructor is reachable; Decimal.from_float is not listed
# attack: build a Decimal through a class method, around the constructor's bound
from decimal import Decimal
print('KGESC' + 'APE', Decimal.from_float(1e300))
