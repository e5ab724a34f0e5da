# expect: accept
# what: conform the stage's time settings to a 30 fps edit and report durations in seconds and timecode.
from pxr import Usd, UsdGeom


def timecode(frame: float, fps: float) -> str:
    total = int(frame)
    return f"{total // int(fps) // 3600:02d}:{total // int(fps) // 60 % 60:02d}:{total // int(fps) % 60:02d}:{total % int(fps):02d}"


stage.SetFramesPerSecond(30)
stage.SetTimeCodesPerSecond(30)
stage.SetStartTimeCode(1001)
stage.SetEndTimeCode(1001 + 30 * 75)

xf = UsdGeom.Xform.Define(stage, "/World/Prop")
op = xf.AddRotateYOp()
op.Set(0.0, stage.GetStartTimeCode())
op.Set(360.0, stage.GetEndTimeCode())

fps = stage.GetFramesPerSecond()
duration = (stage.GetEndTimeCode() - stage.GetStartTimeCode()) / stage.GetTimeCodesPerSecond()
print("fps:", fps, "duration: %.2f s" % duration)
print("start", timecode(stage.GetStartTimeCode(), fps), "end", timecode(stage.GetEndTimeCode(), fps))
print("has authored range:", stage.HasAuthoredTimeCodeRange())
print("rotation mid-way:", op.Get(Usd.TimeCode((stage.GetStartTimeCode() + stage.GetEndTimeCode()) / 2)))
