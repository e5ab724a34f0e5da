# expect: limit
# attack: cheap for the child, expensive for the parent: 300,000 prim specs created inside one
#   Sdf.ChangeBlock (well under the loop limit) make a scene delta the parent (the Kit main thread)
#   must receive and apply outside the job's time and memory limits.
from pxr import Sdf
layer = stage.GetRootLayer()
with Sdf.ChangeBlock():
    for i in range(300000):
        Sdf.CreatePrimInLayer(layer, f"/Flood/P{i}")
