# expect: reject-at-runtime
# attack: Sdf.Layer.FindOrOpen another tenant's layer and print its prims.
from pxr import Sdf
layer = Sdf.Layer.FindOrOpen("/tmp/kitgate-corpus-canary/tenant-b.usda")
print([p.path for p in layer.rootPrims])
