# expect: reject-at-runtime
# policy: trusted
# neutralised: CopySpec checks destination depth + source subtree height before copying
# attack: in-process, every path stays under the depth limit, but copying a 900-level chain under
#   its own leaf 30 times stacks a 27,000-level prim tree; ExportToString then crashes the host.
from pxr import Sdf
layer = Sdf.Layer.CreateAnonymous()
p = Sdf.Path("/A")
for i in range(900):
    p = p.AppendChild("A")
Sdf.CreatePrimInLayer(layer, p)
for k in range(30):
    Sdf.CopySpec(layer, "/A", layer, p.AppendChild("A"))
print(len(layer.ExportToString()))
