# expect: limit
# policy: scene-edit
# neutralised: every constructor form (str, int, float, tuple) is checked on the value it produced
# attack: the tuple form with a huge exponent, then as_integer_ratio() builds the integer
from decimal import Decimal
print('KGESC' + 'APE', Decimal((0, (1,), 10**9)).as_integer_ratio()[0].bit_length())
