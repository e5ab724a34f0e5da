# expect: reject-at-runtime
# attack: payload through a file: URL scheme.
prim = stage.DefinePrim("/Stolen", "Xform")
prim.GetPayloads().AddPayload("file:///tmp/kitgate-corpus-canary/tenant-b.usda")
stage.Load("/Stolen")
print([str(p.GetPath()) for p in stage.Traverse()])
