# expect: reject-at-runtime
# note: issue 13 made the import/builtin/dunder legal, so the guard now refuses this at run time.
# attack: Tf.PrepareModule copies a native module's private names into a dict we control.
from pxr import Tf
from pxr import Usd
ns = {}
Tf.PrepareModule(Usd, ns)
print("KGESC" + "APE", sorted(ns))
