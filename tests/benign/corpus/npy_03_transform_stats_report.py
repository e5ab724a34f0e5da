# expect: accept
# what: an agent reads prim translations into numpy, computes centroid/covariance, recentres with linalg.
import json

import numpy as np
from pxr import Gf, UsdGeom

root = UsdGeom.Xform.Define(stage, "/World")
for i, (x, y, z) in enumerate([(1, 0, 2), (4, 1, -1), (-2, 0.5, 3), (0, 2, 0)]):
    cube = UsdGeom.Cube.Define(stage, f"/World/Box_{i}")
    cube.AddTranslateOp().Set(Gf.Vec3d(x, y, z))

cache = UsdGeom.XformCache()
rows = []
for prim in stage.Traverse():
    if prim.IsA(UsdGeom.Cube):
        m = cache.GetLocalToWorldTransform(prim)
        rows.append(list(m.ExtractTranslation()))
pts = np.array(rows)
centroid = pts.mean(axis=0)
cov = (pts - centroid).T @ (pts - centroid) / (len(pts) - 1)
evals = np.linalg.eigvalsh(cov)
report = {
    "count": int(pts.shape[0]),
    "centroid": np.round(centroid, 4).tolist(),
    "principal_spread": np.round(np.sqrt(evals[::-1]), 4).tolist(),
    "farthest": int(np.argmax(np.linalg.norm(pts - centroid, axis=1))),
}
offset = UsdGeom.Xform.Define(stage, "/World/Recentre")
offset.AddTranslateOp().Set(Gf.Vec3d(*(-centroid).tolist()))
print(json.dumps(report, indent=2, sort_keys=True))
