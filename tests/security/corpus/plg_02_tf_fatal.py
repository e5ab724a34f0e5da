# expect: reject-at-compile
# attack: Tf.Fatal aborts the process that runs the script.
from pxr import Tf
Tf.Fatal("goodbye worker")
