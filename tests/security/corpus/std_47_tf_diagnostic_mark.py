# expect: reject-at-runtime
# policy: scene-edit
# attack: Tf.Error.Mark / diagnostic control stay out
from pxr import Tf
m = Tf.Error.Mark()
print('KGESC' + 'APE', m)
