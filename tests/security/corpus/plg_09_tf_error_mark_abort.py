# expect: reject-at-compile
# attack: Tf diagnostics: Tf.RaiseCodingError / Tf.Debug to flood or abort native code.
from pxr import Tf
Tf.Debug.SetDebugSymbolsByName("*", True)
Tf.RaiseCodingError("x")
