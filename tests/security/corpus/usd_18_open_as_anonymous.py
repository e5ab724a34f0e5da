# expect: reject-at-runtime
# attack: Sdf.Layer.OpenAsAnonymous reads a file into an anonymous layer.
from pxr import Sdf
layer = Sdf.Layer.OpenAsAnonymous("/tmp/kitgate-corpus-canary/tenant-b.usda")
print(layer.ExportToString())
