# expect: reject-at-compile
# attack: setattr/delattr on an allowed module to replace a guarded function.
from pxr import Usd
setattr(Usd.Stage, "Open", print)
delattr(Usd, "Stage")
