# expect: reject-at-compile
# policy: scene-edit
# attack: string.Formatter.get_field walks attributes with the real getattr
from string import Formatter
print('KGESC' + 'APE', Formatter().get_field('0.__class__', [()], {}))
