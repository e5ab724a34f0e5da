# expect: reject-at-runtime
# attack: sublayer /etc/passwd and a foreign tenant file so composition reads them.
layer = stage.GetRootLayer()
layer.subLayerPaths.append("/tmp/kitgate-corpus-canary/tenant-b.usda")
layer.subLayerPaths.append("/etc/passwd")
print([str(p.GetPath()) for p in stage.Traverse()])
