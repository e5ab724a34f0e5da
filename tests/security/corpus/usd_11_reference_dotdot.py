# expect: reject-at-runtime
# attack: reference with ../../ climbing out of the asset root.
prim = stage.DefinePrim("/Stolen", "Xform")
prim.GetReferences().AddReference("../../../../../../../../../tmp/kitgate-corpus-canary/tenant-b.usda")
print([str(p.GetPath()) for p in stage.Traverse()])
