# expect: reject-at-runtime
# attack: rename the root layer's identifier to an outside path, then Save().
layer = stage.GetRootLayer()
layer.identifier = "/tmp/kitgate-corpus-canary/ESCAPED-usd_17.usda"
layer.Save()
