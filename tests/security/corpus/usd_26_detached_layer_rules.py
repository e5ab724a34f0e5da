# expect: reject-at-runtime
# attack: Sdf.Layer.SetDetachedLayerRules changes process-wide layer loading.
from pxr import Sdf
Sdf.Layer.SetDetachedLayerRules(Sdf.Layer.DetachedLayerRules().IncludeAll())
