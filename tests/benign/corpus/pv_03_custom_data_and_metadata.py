# expect: accept
# what: customData, assetInfo, documentation and comments.
from pxr import Sdf

prim = stage.DefinePrim("/World/Documented", "Xform")
prim.SetCustomDataByKey("pipeline:step", "layout")
prim.SetCustomDataByKey("pipeline:approved", True)
prim.SetAssetInfoByKey("name", "Documented")
prim.SetAssetInfoByKey("version", "1.2")
prim.SetDocumentation("A prim with metadata")
prim.SetMetadata("comment", "made by a script")
stage.GetRootLayer().customLayerData = {"author": "benign-corpus", "revision": 4}
print(prim.GetCustomData(), prim.GetAssetInfo())
