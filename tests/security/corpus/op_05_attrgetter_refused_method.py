# expect: reject-at-runtime
# policy: scene-edit
# neutralised: attrgetter reads through the runtime's per-type allow-list, not the real getattr
# attack: fetch Sdf.Layer.Export (never allowed) by name and write a file outside the asset roots
from operator import attrgetter
export = attrgetter('Export')(stage.GetRootLayer())
export('/tmp/kitgate-corpus-canary/ESCAPED-op_05.usda')
print('KGESC' + 'APE')
