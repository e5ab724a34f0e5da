# expect: reject-at-runtime
# attack: Sdf.Layer.GetLoadedLayers lists every layer in the process, including other tenants'.
from pxr import Sdf
for layer in Sdf.Layer.GetLoadedLayers():
    print(layer.identifier, layer.ExportToString()[:400])
