# expect: reject-at-runtime
# note: issue 13 made the import/builtin/dunder legal, so the guard now refuses this at run time.
# attack: Tf.Fatal aborts the process that runs the script.
from pxr import Tf
Tf.Fatal("goodbye worker")
