# expect: limit
# policy: scene-edit
# neutralised: the Decimal constructor bounds the exponent, so fixed-point text stays short
# attack: formatting 1e-999999999 in fixed point writes a billion zeros in one C call
from decimal import Decimal
print('KGESC' + 'APE', len(format(Decimal('1e-999999999'), 'f')))
