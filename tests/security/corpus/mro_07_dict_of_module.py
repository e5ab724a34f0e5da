# expect: reject-at-compile
# attack: a module proxy's __dict__ exposes the real module namespace.
from pxr import Usd
ns = Usd.__dict__
print("KGESC" + "APE", list(ns))
