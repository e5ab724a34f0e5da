# expect: reject-at-runtime
# policy: scene-edit
# neutralised: Decimal cannot be subclassed by scripts, and type(d) is a read-only view
# attack: construct through type(d) to skip the guarded constructor
from decimal import Decimal
d = Decimal(1)
print('KGESC' + 'APE', type(d)('1e999999999'))
