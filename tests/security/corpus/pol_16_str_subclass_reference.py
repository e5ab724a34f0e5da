# expect: reject-at-runtime
# attack: a str subclass whose split() lies, so a path check that splits off a suffix sees an inside
#   path while USD receives the foreign one (via AddReference, which is allowed).
class Sneaky(str):
    def split(self, *args, **kwargs):
        return ["/tmp/kitgate-corpus-root/inside.usda"]
prim = stage.DefinePrim("/Stolen", "Xform")
prim.GetReferences().AddReference(Sneaky("/tmp/kitgate-corpus-canary/tenant-b.usda"))
print([str(p.GetPath()) for p in stage.Traverse()])
