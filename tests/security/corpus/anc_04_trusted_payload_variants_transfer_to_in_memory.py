# expect: accept
# policy: trusted
# stage: rooted
# neutralised: the in-memory layer receives each payload as the absolute in-root path it was checked as
# attack: in-process, one payload per variant of the job layer, then TransferContent of the whole layer
#   into a fresh in-memory stage per variant, selected and loaded there: an in-memory layer anchors at
#   the host's own working directory, so a verbatim payload would open the other tenant's layer.
from pxr import Usd

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
prim = stage.DefinePrim("/World/Lod")
vset = prim.GetVariantSets().AddVariantSet("lod")
for i, p in enumerate(PATHS):
    vset.AddVariant("l" + str(i))
    vset.SetVariantSelection("l" + str(i))
    with vset.GetVariantEditContext():
        prim.GetPayloads().AddPayload(p)
out = []
for i in range(len(PATHS)):
    mem = Usd.Stage.CreateInMemory()
    mem.GetRootLayer().TransferContent(layer)
    mem.GetPrimAtPath("/World/Lod").GetVariantSet("lod").SetVariantSelection("l" + str(i))
    mem.Load()
    out += seen(mem)
restored = layer.ImportFromString(before)
result = out
