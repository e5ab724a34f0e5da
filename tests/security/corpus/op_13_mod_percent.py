# expect: limit
# policy: scene-edit
# neutralised: operator.mod is the guarded `%` (printf-style output size computed first)
# attack: a printf width of a billion through operator.mod
import operator
print('KGESC' + 'APE', len(operator.mod('%0999999999d', 1)))
