# expect: reject-at-runtime
# attack: pass the asset path as a keyword argument (assetPath=...) in case the guard only checks
#   positional arguments.
prim = stage.DefinePrim("/Stolen", "Xform")
prim.GetReferences().AddReference(assetPath="/tmp/kitgate-corpus-canary/tenant-b.usda")
print([str(p.GetPath()) for p in stage.Traverse()])
