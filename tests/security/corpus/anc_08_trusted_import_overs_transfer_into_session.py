# expect: reject-at-runtime
# policy: trusted
# stage: rooted
# attack: in-process, ImportFromString authors `over` prims with appended references (defaultPrim and an
#   explicit prim path) into the job layer; the session layer then takes the whole content by
#   TransferContent, and the job layer is restored, so only the moved copy remains to compose. (Refused
#   today at the import: imported asset paths may not climb with '..'; a move would be anchored anyway.)

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
text = "#usda 1.0\n"
for i, p in enumerate(PATHS):
    text += 'over "Imp' + str(i) + '" (\n    append references = [@' + p + '@, @' + p + '@</KGNOPE>]\n)\n{\n}\n'
layer.ImportFromString(text)
stage.GetSessionLayer().TransferContent(layer)
restored = layer.ImportFromString(before)
result = seen(stage)
