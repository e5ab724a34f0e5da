# expect: reject-at-runtime
# attack: mutate a list owned by the host (the stage's layer stack) in place through an allowed API return value.
layers = stage.GetLayerStack()
layers.append(layers[0])
layers.clear()
stage.GetRootLayer().subLayerPaths[:] = ["/etc/passwd"]
