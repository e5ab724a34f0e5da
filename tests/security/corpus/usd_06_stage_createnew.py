# expect: reject-at-runtime
# attack: Usd.Stage.CreateNew creates a file outside the roots.
from pxr import Usd
s = Usd.Stage.CreateNew("/tmp/kitgate-corpus-canary/ESCAPED-usd_06.usda")
s.GetRootLayer().Save()
