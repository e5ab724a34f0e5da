# expect: reject-at-runtime
# attack: Usd.Stage.Open a file outside the asset roots.
from pxr import Usd
other = Usd.Stage.Open("/tmp/kitgate-corpus-canary/tenant-b.usda")
print([str(p.GetPath()) for p in other.Traverse()])
