# expect: accept
# what: add a sublayer from the asset root and list the layer stack size.
layer = stage.GetRootLayer()
layer.subLayerPaths.append("/tmp/kitgate-benign-assets/chair.usda")
print("chair composed:", stage.GetPrimAtPath("/Chair").IsValid())
print("sublayers:", list(layer.subLayerPaths))
