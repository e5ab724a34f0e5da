# expect: reject-at-runtime
# attack: pass an Sdf.Reference / Sdf.Payload object (assetPath field) instead of a plain string.
from pxr import Sdf
prim = stage.DefinePrim("/Stolen", "Xform")
prim.GetReferences().AddReference(Sdf.Reference(assetPath="/tmp/kitgate-corpus-canary/tenant-b.usda"))
prim.GetPayloads().AddPayload(Sdf.Payload("/tmp/kitgate-corpus-canary/tenant-b.usda"))
print([str(p.GetPath()) for p in stage.Traverse()])
