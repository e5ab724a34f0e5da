# expect: reject-at-runtime
# policy: scene-edit
# neutralised: each part of a dotted name is guarded, not only the first
# attack: the first step is allowed (GetRootLayer is a method, the bound method is reachable), the second is not
from operator import attrgetter
layer = stage.GetRootLayer()
print('KGESC' + 'APE', attrgetter('customLayerData.__class__.__dict__')(layer))
