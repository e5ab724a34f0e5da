# expect: reject-at-runtime
# policy: scene-edit
# attack: Kind.Registry is read-only: unlisted members stay unreachable
from pxr import Kind
print('KGESC' + 'APE', Kind.Registry.expired)
