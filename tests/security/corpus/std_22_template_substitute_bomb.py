# expect: limit
# policy: scene-edit
# attack: Template.substitute repeats a big value once per placeholder in one call
import string
t = string.Template('$a' * 200000)
print('KGESC' + 'APE', len(t.substitute(a='x' * 100000)))
