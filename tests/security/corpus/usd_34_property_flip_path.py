# expect: reject-at-runtime
# attack: time-of-check/time-of-use: an object whose .path property answers an inside path the first
#   time it is read and the foreign path afterwards.
class Flip:
    def __init__(self):
        self.n = 0
    def get_path(self):
        self.n = self.n + 1
        if self.n == 1:
            return "/tmp/kitgate-corpus-root/inside.usda"
        return "/tmp/kitgate-corpus-canary/tenant-b.usda"
    path = property(get_path)
stage.GetRootLayer().subLayerPaths.append(Flip())
prim = stage.DefinePrim("/Stolen", "Xform")
prim.GetReferences().AddReference(Flip())
print([str(p.GetPath()) for p in stage.Traverse()])
