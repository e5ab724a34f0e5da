# expect: reject-at-runtime
# attack: reach a shared asset layer (loaded by every tenant that references it) through
#   prim.GetPrimStack()[-1].layer and rewrite it in memory with Clear()/ImportFromString();
#   in-process (trusted) mode this rewrites the layer other jobs compose; the job stage must be the
#   only layer a script can edit.
prim = stage.DefinePrim("/Ref", "Xform")
prim.GetReferences().AddReference("/tmp/kitgate-corpus-root/inside.usda", "/Inside")
shared = prim.GetPrimStack()[-1].layer
shared.Clear()
shared.ImportFromString('#usda 1.0\ndef Xform "Tampered"\n{\n}\n')
print(shared.identifier, [p.name for p in shared.rootPrims])
