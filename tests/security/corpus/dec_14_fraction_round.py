# expect: limit
# policy: scene-edit
# neutralised: round() of a Fraction bounds ndigits like round(int, -k) (Fraction.__round__ computes 10**ndigits)
# attack: round a Fraction to a billion digits: one 10**1000000000 inside fractions.py
from fractions import Fraction
print('KGESC' + 'APE', round(Fraction(1, 3), 10**9))
