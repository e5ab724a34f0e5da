# expect: accept
# what: analyse an animated attribute: per-segment velocity, peaks and a text sparkline of the curve.
import statistics

from pxr import UsdGeom

bob = UsdGeom.Xform.Define(stage, "/World/Buoy")
op = bob.AddTranslateOp()
waves = [0.0, 0.3, 0.7, 0.9, 0.6, 0.2, -0.1, -0.4, -0.2, 0.1, 0.4, 0.5]
for frame, y in enumerate(waves):
    op.Set((0.0, y, 0.0), frame * 2)

times = op.GetAttr().GetTimeSamples()
ys = [op.Get(t)[1] for t in times]
velocities = [(b - a) / (tb - ta) for (a, ta), (b, tb) in zip(zip(ys, times), zip(ys[1:], times[1:]))]
peaks = [times[i] for i in range(1, len(ys) - 1) if ys[i - 1] < ys[i] > ys[i + 1]]

bars = " .:-=+*#"
lo, hi = min(ys), max(ys)
sparkline = "".join(bars[int((y - lo) / (hi - lo) * (len(bars) - 1))] for y in ys)
print("samples:", len(times), "mean height: %.3f" % statistics.mean(ys))
print("max speed: %.3f" % max(abs(v) for v in velocities))
print("peaks at:", peaks)
print("curve:", sparkline)
