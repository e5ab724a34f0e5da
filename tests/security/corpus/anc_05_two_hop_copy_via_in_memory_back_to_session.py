# expect: accept
# policy: scene-edit
# stage: rooted
# neutralised: the first hop already anchors every arc; the second hop copies absolute in-root paths
# attack: two hops, so that neither single copy looks like a move out of the job layer: /World into an
#   in-memory layer, then each prim from there into the job stage's own session layer, which the job
#   stage composes (both intermediate layers anchor at the working directory).
from pxr import Sdf, Usd

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
for i, p in enumerate(PATHS):
    stage.DefinePrim("/World/K" + str(i)).GetReferences().AddReference(p)
mem = Usd.Stage.CreateInMemory()
Sdf.CopySpec(layer, "/World", mem.GetRootLayer(), "/World")
for i in range(len(PATHS)):
    Sdf.CopySpec(mem.GetRootLayer(), "/World/K" + str(i), stage.GetSessionLayer(), "/Back" + str(i))
restored = layer.ImportFromString(before)
result = seen(stage) + seen(mem)
