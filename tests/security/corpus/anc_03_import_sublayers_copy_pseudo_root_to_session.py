# expect: reject-at-runtime
# policy: scene-edit
# stage: rooted
# attack: ImportFromString replaces the job layer with one whose subLayers climb (inside the root from
#   the job stage), then Sdf.CopySpec of the pseudo-root "/" into the session layer moves the sublayer
#   list verbatim, where it resolves against the working directory: the other tenant's layer composes.
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
text = "#usda 1.0\n(\n    subLayers = [\n"
text += ",\n".join("        @" + p + "@" for p in PATHS)
text += "\n    ]\n)\n"
layer.ImportFromString(text)
Sdf.CopySpec(layer, "/", stage.GetSessionLayer(), "/")
result = seen(stage)
