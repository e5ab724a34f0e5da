# expect: limit
# policy: scene-edit
# neutralised: the Decimal constructor refuses exponents beyond the job context's Emax/Emin
# attack: a tiny Decimal literal whose int() is a billion-digit integer
from decimal import Decimal
print('KGESC' + 'APE', int(Decimal('1e999999999')).bit_length())
