# expect: limit
# policy: scene-edit
# neutralised: operator.mul is the sandbox's guarded `*` (same size check as 'x' * n)
# attack: sequence repetition through the function form, where the `*` guard never sees it
import operator
print('KGESC' + 'APE', len(operator.mul('x', 10**9)))
