# expect: reject-at-compile
# policy: scene-edit
# neutralised: operator.setitem/delitem are not in the vetted subset (item writes go through _write_)
# attack: write into a host object's item slots without a subscript assignment in the source
from operator import setitem
setitem(stage.GetRootLayer().customLayerData, 'x', 1)
print('KGESC' + 'APE')
