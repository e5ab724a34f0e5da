# expect: reject-at-runtime
# attack: Sdf.Layer.CreateNew writes a file anywhere on disk.
from pxr import Sdf
layer = Sdf.Layer.CreateNew("/tmp/kitgate-corpus-canary/ESCAPED-usd_01.usda")
layer.Save()
