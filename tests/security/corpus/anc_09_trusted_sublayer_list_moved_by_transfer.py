# expect: accept
# policy: trusted
# stage: rooted
# neutralised: the anonymous layer's sublayer list holds the absolute in-root paths that were checked
# attack: in-process, climbing sublayer paths appended to the job layer (checked there), the layer's
#   whole content transferred into an anonymous layer, the job layer restored, and the anonymous layer
#   sublayered into the session layer: its sublayer list now resolves against the host's cwd.
from pxr import Sdf

# Each spelling stays inside the asset root next to the job stage (eight folders below the root), and
# reaches the other tenant's layer from any working directory up to eight folders deep.
PATHS = []
for k in range(1, 9):
    PATHS.append("../" * k + "kitgate-corpus-canary/tenant-b.usda")
    PATHS.append("../" * k + "tmp/kitgate-corpus-canary/tenant-b.usda")


def seen(st):
    out = [p.GetName() for p in st.TraverseAll()]
    return out + [str(e) for e in st.GetCompositionErrors()]


layer = stage.GetRootLayer()
before = layer.ExportToString()
for p in PATHS:
    layer.subLayerPaths.append(p)
anon = Sdf.Layer.CreateAnonymous()
anon.TransferContent(layer)
restored = layer.ImportFromString(before)
stage.GetSessionLayer().subLayerPaths.append(anon.identifier)
result = seen(stage) + list(anon.subLayerPaths)
