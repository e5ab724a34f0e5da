# expect: limit
# policy: scene-edit
# neutralised: operator.pow is the guarded `**` (result size bounded before the C call)
# attack: a gigantic integer power in one C call through operator.pow, used as a reduce function
import functools, operator
print('KGESC' + 'APE', functools.reduce(operator.pow, [10, 10**8]).bit_length())
