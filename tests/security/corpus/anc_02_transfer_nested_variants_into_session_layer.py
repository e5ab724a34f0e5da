# expect: accept
# policy: scene-edit
# stage: rooted
# neutralised: the session layer receives each arc as the absolute in-root path it was checked as
# attack: references authored inside a variant nested in another variant of the job layer, then
#   session.TransferContent(rootLayer): the session layer is anonymous, so the verbatim arcs would
#   resolve against the working directory; every inner variant is selected in turn and composed.

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
prim = stage.DefinePrim("/World/V")
outer = prim.GetVariantSets().AddVariantSet("outer")
outer.AddVariant("a")
outer.SetVariantSelection("a")
with outer.GetVariantEditContext():
    inner = prim.GetVariantSets().AddVariantSet("inner")
    for i, p in enumerate(PATHS):
        inner.AddVariant("v" + str(i))
        inner.SetVariantSelection("v" + str(i))
        with inner.GetVariantEditContext():
            stage.DefinePrim("/World/V/C" + str(i)).GetReferences().AddReference(p)
stage.GetSessionLayer().TransferContent(layer)
out = []
for i in range(len(PATHS)):
    stage.GetPrimAtPath("/World/V").GetVariantSet("inner").SetVariantSelection("v" + str(i))
    out += seen(stage)
restored = layer.ImportFromString(before)
result = out
