# expect: reject-at-compile
# attack: from-import of a private name out of an allowed module.
from pxr.Usd import _usd
from pxr import _usd as raw
print("KGESC" + "APE", raw, _usd)
