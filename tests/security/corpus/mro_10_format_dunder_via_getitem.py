# expect: reject-at-runtime
# attack: build a dunder key at runtime and subscript a host-provided mapping with it
#   (underscore string keys must be refused by the subscript guard).
layer = stage.GetRootLayer()
data = layer.customLayerData
key = "_" + "_builtins_" + "_"
print("KGESC" + "APE", data[key])
