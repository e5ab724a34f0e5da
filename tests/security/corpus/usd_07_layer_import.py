# expect: reject-at-runtime
# attack: Sdf.Layer.Import replaces the root layer's content with another tenant's file.
layer = stage.GetRootLayer()
layer.Import("/tmp/kitgate-corpus-canary/tenant-b.usda")
print([p.path for p in layer.rootPrims])
