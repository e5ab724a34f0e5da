# expect: limit
# policy: scene-edit
# neutralised: operator.concat/add are the guarded `+` (the concatenation size is checked first)
# attack: doubling a big string with reduce(operator.concat), so the `+` guard is never called
import functools, operator
s = 'x' * 30000000
print('KGESC' + 'APE', len(functools.reduce(operator.concat, [s, s, s])))
