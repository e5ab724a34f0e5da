# expect: reject-at-runtime
# policy: scene-edit
# attack: string.Template's compiled class pattern (and through it re internals)
import string
t = string.Template('$x')
print('KGESC' + 'APE', t.pattern)
