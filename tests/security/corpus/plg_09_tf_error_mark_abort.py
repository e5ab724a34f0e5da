# expect: reject-at-runtime
# note: issue 13 made the import/builtin/dunder legal, so the guard now refuses this at run time.
# attack: Tf diagnostics: Tf.RaiseCodingError / Tf.Debug to flood or abort native code.
from pxr import Tf
Tf.Debug.SetDebugSymbolsByName("*", True)
Tf.RaiseCodingError("x")
