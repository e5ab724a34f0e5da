# expect: reject-at-runtime
# policy: scene-edit
# attack: type(path)(text) skips the Sdf.Path parser guard
from pxr import Sdf
P = type(Sdf.Path('/a'))
print('KGESC' + 'APE', P('/a' + '[/b' * 3000 + ']' * 3000))
