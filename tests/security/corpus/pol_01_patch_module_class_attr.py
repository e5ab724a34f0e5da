# expect: reject-at-runtime
# attack: replace a method on an allowed pxr class (host-wide monkeypatch).
from pxr import Usd
Usd.Stage.Open = lambda *args: print("KGESC" + "APE")
