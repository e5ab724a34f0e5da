# expect: reject-at-runtime
# policy: scene-edit
# neutralised: only the display-name helper was added; its siblings that find, open or create layers stay refused
# attack: from the newly allowed static helper, move to Sdf.Layer.FindOrOpen on the same identifier
from pxr import Sdf
name = Sdf.Layer.GetDisplayNameFromIdentifier('/tmp/kitgate-corpus-canary/tenant-b.usda')
layer = Sdf.Layer.FindOrOpen('/tmp/kitgate-corpus-canary/' + name)
print('KGESC' + 'APE', layer.ExportToString())
