# expect: reject-at-runtime
# policy: scene-edit
# attack: Tf is importable for its helpers; Tf.Fatal would abort the process
from pxr import Tf
Tf.Fatal('KGESC' + 'APE')
