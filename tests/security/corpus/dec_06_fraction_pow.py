# expect: limit
# policy: scene-edit
# neutralised: `**` with a Fraction base is bounded like an integer power (numerator and denominator)
# attack: Fraction.__pow__ raises both parts to a huge power in one C call
from fractions import Fraction
print('KGESC' + 'APE', (Fraction(3, 7) ** 10**8).numerator.bit_length())
