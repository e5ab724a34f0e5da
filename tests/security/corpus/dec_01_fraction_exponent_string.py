# expect: limit
# policy: scene-edit
# neutralised: Fraction(str) reads the exponent with fractions' own grammar and bounds it before parsing
# attack: Fraction('1e999999999') computes 10**999999999 inside the stdlib, where no `**` guard runs
from fractions import Fraction
print('KGESC' + 'APE', Fraction('1e999999999') > 1)
