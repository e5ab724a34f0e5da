# expect: limit
# policy: scene-edit
# neutralised: `/` on Fractions is not a guarded operator; each step doubles, so the step budget, the deadline
# and the isolated child's limits stop it (Fractions are isolated-only for this reason)
# attack: square through division by the reciprocal, which no `*` guard sees
from fractions import Fraction
f = Fraction(3, 7)
for _ in range(60):
    f = f / (1 / f)
print('KGESC' + 'APE', f.numerator.bit_length())
