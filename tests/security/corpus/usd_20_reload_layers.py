# expect: reject-at-runtime
# attack: Sdf.Layer.ReloadLayers / Reload on shared layers changes other tenants' state.
from pxr import Sdf
Sdf.Layer.ReloadLayers(set(Sdf.Layer.GetLoadedLayers()), True)
