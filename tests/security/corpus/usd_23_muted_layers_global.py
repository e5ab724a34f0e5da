# expect: reject-at-runtime
# attack: Sdf.Layer.AddToMutedLayers mutes a path for every stage in the process.
from pxr import Sdf
Sdf.Layer.AddToMutedLayers(stage.GetRootLayer().identifier)
