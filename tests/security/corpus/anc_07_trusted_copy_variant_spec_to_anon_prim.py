# expect: accept
# policy: trusted
# stage: rooted
# neutralised: each variant's reference arrives as the absolute in-root path it was checked as
# attack: in-process, Sdf.CopySpec with a variant path as the source (/World/Look{look=vN}) onto a plain
#   prim of an anonymous layer, whose content is then transferred into an in-memory stage: the variant's
#   reference leaves its layer without ever being authored through a checked API.
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
prim = stage.DefinePrim("/World/Look")
vset = prim.GetVariantSets().AddVariantSet("look")
for i, p in enumerate(PATHS):
    vset.AddVariant("v" + str(i))
    vset.SetVariantSelection("v" + str(i))
    with vset.GetVariantEditContext():
        prim.GetReferences().AddReference(p)
anon = Sdf.Layer.CreateAnonymous()
for i in range(len(PATHS)):
    Sdf.CopySpec(layer, "/World/Look{look=v" + str(i) + "}", anon, "/P" + str(i))
mem = Usd.Stage.CreateInMemory()
mem.GetRootLayer().TransferContent(anon)
restored = layer.ImportFromString(before)
result = seen(mem)
