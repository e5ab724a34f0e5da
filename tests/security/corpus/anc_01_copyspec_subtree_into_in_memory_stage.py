# expect: accept
# policy: scene-edit
# stage: rooted
# neutralised: the copy carries each arc as the absolute in-root path it was checked as (no such file)
# attack: references authored two levels below /World, each inside the root when anchored at the job
#   stage; Sdf.CopySpec of the whole /World subtree into a Usd.Stage.CreateInMemory() layer, which USD
#   anchors at the child's working directory, then compose that stage and read every prim name.
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
    stage.DefinePrim("/World/Box/Deep" + str(i)).GetReferences().AddReference(p)
mem = Usd.Stage.CreateInMemory()
Sdf.CopySpec(layer, "/World", mem.GetRootLayer(), "/Copy")
restored = layer.ImportFromString(before)
result = seen(mem)
