# expect: reject-at-runtime
# attack: reference a symlink that sits inside an allowed root but points outside it.
prim = stage.DefinePrim("/Stolen", "Xform")
prim.GetReferences().AddReference("/tmp/kitgate-corpus-root/escape.usda")
print([str(p.GetPath()) for p in stage.Traverse()])
