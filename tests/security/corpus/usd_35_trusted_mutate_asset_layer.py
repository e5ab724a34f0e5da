# expect: reject-at-runtime
# policy: trusted
# attack: F2 in-process: under `trusted` the script runs in the host, so rewriting the referenced
#   asset layer through GetPrimStack()[-1].layer changes the layer every later job composes.
prim = stage.DefinePrim("/Ref", "Xform")
prim.GetReferences().AddReference("/tmp/kitgate-corpus-root/inside.usda", "/Inside")
shared = prim.GetPrimStack()[-1].layer
shared.Clear()
shared.ImportFromString('#usda 1.0\ndef Xform "Tampered"\n{\n}\n')
print(shared.identifier, [p.name for p in shared.rootPrims])
