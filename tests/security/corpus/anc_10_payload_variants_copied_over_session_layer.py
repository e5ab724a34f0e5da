# expect: accept
# policy: scene-edit
# stage: rooted
# neutralised: the session copy of every variant holds its payload as the in-root path it was checked as
# attack: payloads in variants of the job layer with no selection; /World copied over the same path of
#   the session layer, the job layer restored, then each variant selected through a session-layer edit
#   context and the payload loaded: only the moved copy in the session layer can compose it.
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
prim = stage.DefinePrim("/World/Prop")
vset = prim.GetVariantSets().AddVariantSet("src")
for i, p in enumerate(PATHS):
    vset.AddVariant("s" + str(i))
    vset.SetVariantSelection("s" + str(i))
    with vset.GetVariantEditContext():
        prim.GetPayloads().AddPayload(p)
vset.SetVariantSelection("")
Sdf.CopySpec(layer, "/World", stage.GetSessionLayer(), "/World")
restored = layer.ImportFromString(before)
out = []
for i in range(len(PATHS)):
    with Usd.EditContext(stage, stage.GetSessionLayer()):
        stage.GetPrimAtPath("/World/Prop").GetVariantSet("src").SetVariantSelection("s" + str(i))
    stage.Load("/World/Prop")
    out += seen(stage)
result = out
