# expect: reject-at-runtime
# attack: reference /proc/self/environ so the parse error echoes environment bytes (KITGATE_CANARY_ENV).
prim = stage.DefinePrim("/Env", "Xform")
prim.GetReferences().AddReference("/proc/self/environ")
print([str(p.GetPath()) for p in stage.Traverse()])
