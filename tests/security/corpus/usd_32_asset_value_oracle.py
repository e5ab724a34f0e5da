# expect: reject-at-runtime
# attack: file-existence oracle: author an asset-valued attribute pointing at host files and read
#   the resolvedPath USD computes for it.
from pxr import Sdf
prim = stage.DefinePrim("/Tex", "Xform")
attr = prim.CreateAttribute("tex", Sdf.ValueTypeNames.Asset)
attr.Set(Sdf.AssetPath("/etc/shadow"))
print("KGESC" + "APE", attr.Get().resolvedPath)
