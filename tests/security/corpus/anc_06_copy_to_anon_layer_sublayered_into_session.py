# expect: accept
# policy: scene-edit
# stage: rooted
# neutralised: the anonymous layer receives each payload as the absolute in-root path it was checked as
# attack: payloads authored in the job layer, copied into the job's own anonymous layer (a layer the job
#   may use), which then becomes a sublayer of the session layer: the job stage itself composes the
#   moved payloads against the anonymous layer's anchor, the working directory.
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
anon = Sdf.Layer.CreateAnonymous()
for i, p in enumerate(PATHS):
    stage.DefinePrim("/World/A" + str(i)).GetPayloads().AddPayload(p)
Sdf.CopySpec(layer, "/World", anon, "/World")
restored = layer.ImportFromString(before)
stage.GetSessionLayer().subLayerPaths.append(anon.identifier)
stage.Load()
result = seen(stage)
