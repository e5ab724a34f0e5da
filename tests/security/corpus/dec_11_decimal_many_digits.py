# expect: limit
# policy: scene-edit
# neutralised: the Decimal constructor bounds the number of digits too
# attack: a 200000-digit Decimal converted with int() (Decimal's int conversion ignores int_max_str_digits)
from decimal import Decimal
print('KGESC' + 'APE', int(Decimal('7' * 200000)).bit_length())
