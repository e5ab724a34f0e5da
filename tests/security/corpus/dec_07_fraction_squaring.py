# expect: limit
# policy: scene-edit
# neutralised: `*` with Fraction operands checks the product's size like an integer product
# attack: repeated squaring doubles the numerator's bits each step, one unguarded big-int product per step
from fractions import Fraction
f = Fraction(3, 7)
for _ in range(40):
    f = f * f
print('KGESC' + 'APE', f.numerator.bit_length())
