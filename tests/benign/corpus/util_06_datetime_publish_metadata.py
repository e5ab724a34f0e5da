# expect: accept
# what: stamp publish metadata (a fixed timestamp string and a version bump) in customLayerData and on the root prim.
from datetime import datetime, timedelta, timezone

from pxr import UsdGeom

published = datetime(2026, 3, 14, 15, 9, 26, tzinfo=timezone.utc)
expires = published + timedelta(days=30)
layer = stage.GetRootLayer()
data = dict(layer.customLayerData)
version = int(data.get("version", 0)) + 1
data.update({
    "version": version,
    "publishedAt": published.isoformat(),
    "expiresAt": expires.strftime("%Y-%m-%d"),
    "publisher": "layout-agent",
})
layer.customLayerData = data

world = UsdGeom.Xform(stage.GetPrimAtPath("/World"))
world.GetPrim().SetAssetInfoByKey("version", str(version))
world.GetPrim().SetAssetInfoByKey("name", "set_" + published.strftime("%Y%m%d"))

for key in sorted(layer.customLayerData):
    print(f"{key}: {layer.customLayerData[key]}")
print("asset info:", dict(world.GetPrim().GetAssetInfo()))
print("weekday:", published.strftime("%A"), "| in", (expires - published).days, "days")
