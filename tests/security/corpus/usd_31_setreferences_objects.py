# expect: reject-at-runtime
# attack: one legitimate reference first (to pass a "first call" check), then SetReferences with a
#   list of Sdf.Reference objects pointing outside the roots.
from pxr import Sdf, Usd
prim = stage.DefinePrim("/Stolen", "Xform")
prim.GetReferences().AddReference(Sdf.Reference("/tmp/kitgate-corpus-root/inside.usda"), Usd.ListPositionFrontOfPrependList)
prim.GetReferences().SetReferences([Sdf.Reference("/tmp/kitgate-corpus-canary/tenant-b.usda")])
print([str(p.GetPath()) for p in stage.Traverse()])
