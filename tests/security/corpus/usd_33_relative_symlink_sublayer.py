# expect: reject-at-runtime
# attack: a relative sublayer name that exists inside the asset root but is a symlink to another
#   tenant's file (resolved against the root for an anonymous job layer).
stage.GetRootLayer().subLayerPaths.append("escape.usda")
print([str(p.GetPath()) for p in stage.Traverse()])
