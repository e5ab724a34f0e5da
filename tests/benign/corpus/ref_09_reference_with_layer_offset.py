# expect: accept
# what: reference the same animated clip with different layer offsets (offset + scale) to stagger instances.
from pxr import Sdf, UsdGeom

clip = UsdGeom.Xform.Define(stage, "/World/Clips/Hop")
op = clip.AddTranslateOp()
for frame, y in [(0, 0.0), (5, 1.0), (10, 0.0)]:
    op.Set((0, y, 0), frame)

for i, (offset, scale) in enumerate([(0, 1.0), (3, 1.0), (6, 0.5), (10, 2.0)]):
    dancer = stage.DefinePrim(f"/World/Dancers/D{i}")
    dancer.GetReferences().AddInternalReference("/World/Clips/Hop", Sdf.LayerOffset(offset, scale))

for i in range(4):
    attr = stage.GetPrimAtPath(f"/World/Dancers/D{i}").GetAttribute("xformOp:translate")
    print(f"D{i}: y@5={attr.Get(5)[1]:.2f} y@10={attr.Get(10)[1]:.2f} samples={attr.GetTimeSamples()}")
