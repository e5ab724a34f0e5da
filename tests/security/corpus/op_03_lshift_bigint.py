# expect: limit
# policy: scene-edit
# neutralised: operator.lshift is the guarded `<<`
# attack: allocate a 10**10-bit integer with one shift, mapped over a list so no `<<` appears in the source
import operator
print('KGESC' + 'APE', list(map(operator.lshift, [1], [10**10]))[0].bit_length())
