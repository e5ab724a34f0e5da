# expect: reject-at-runtime
# attack: Sdf.Layer.Find by identifier returns an already-loaded foreign layer without opening it.
from pxr import Sdf
layer = Sdf.Layer.Find("/tmp/kitgate-corpus-canary/tenant-b.usda")
print(layer.ExportToString() if layer else "not loaded")
