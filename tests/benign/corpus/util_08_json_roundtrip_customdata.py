# expect: accept
# what: store structured settings as JSON strings in attributes and customData, then read and validate them.
import json

from pxr import Sdf, UsdGeom

settings = {
    "lod": {"high": 0, "medium": 25.0, "low": 80.0},
    "castShadows": True,
    "tags": ["hero", "interactive"],
    "notes": None,
}
prop = UsdGeom.Xform.Define(stage, "/World/Hero").GetPrim()
attr = prop.CreateAttribute("pipeline:settingsJson", Sdf.ValueTypeNames.String)
attr.Set(json.dumps(settings, sort_keys=True))
prop.SetCustomDataByKey("pipeline:lodDistances", json.dumps(settings["lod"]))

loaded = json.loads(attr.Get())
assert loaded == settings, "round trip changed the data"
lod = json.loads(prop.GetCustomDataByKey("pipeline:lodDistances"))
print("keys:", list(loaded))
print("lod thresholds:", sorted(lod.items(), key=lambda kv: kv[1]))
print("compact:", json.dumps(loaded, separators=(",", ":"), sort_keys=True))
try:
    json.loads("{not json}")
except json.JSONDecodeError as err:
    print("bad input rejected at column", err.colno)
