# expect: accept
# what: build shot cameras from a JSON shot list (as an agent would receive it) and echo back a summary.
import json

from pxr import Gf, UsdGeom

SHOTS_JSON = """
[
  {"shot": "sh010", "focal": 35, "pos": [0, 1.6, 6], "range": [1001, 1048]},
  {"shot": "sh020", "focal": 50, "pos": [2, 1.7, 4], "range": [1049, 1090]},
  {"shot": "sh030", "focal": 85, "pos": [-1, 1.5, 3], "range": [1091, 1160]}
]
"""

shots = json.loads(SHOTS_JSON)
summary = []
for shot in shots:
    cam = UsdGeom.Camera.Define(stage, f"/World/Shots/{shot['shot']}/Cam")
    cam.CreateFocalLengthAttr(float(shot["focal"]))
    cam.AddTranslateOp().Set(Gf.Vec3d(*shot["pos"]))
    prim = cam.GetPrim()
    prim.SetCustomDataByKey("shot:frameRange", Gf.Vec2i(*shot["range"]))
    start, end = shot["range"]
    summary.append({"shot": shot["shot"], "camera": str(prim.GetPath()), "frames": end - start + 1})

stage.SetStartTimeCode(min(s["range"][0] for s in shots))
stage.SetEndTimeCode(max(s["range"][1] for s in shots))
print(json.dumps({"shots": summary, "total_frames": sum(s["frames"] for s in summary)}, indent=1))
