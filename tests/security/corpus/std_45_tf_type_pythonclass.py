# expect: reject-at-runtime
# policy: scene-edit
# attack: Tf.Type.pythonClass hands out the unguarded Sdf.Path class
from pxr import Tf
raw = Tf.Type.FindByName('SdfPath').pythonClass
print('KGESC' + 'APE', raw('/' + '/'.join(['a'] * 5000)))
