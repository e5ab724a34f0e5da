# expect: accept
# what: bake a "parent constraint": keep a prop glued to an animated hand by computing relative transforms per frame.
from pxr import Gf, UsdGeom

hand = UsdGeom.Xform.Define(stage, "/World/Character/Hand")
t = hand.AddTranslateOp()
r = hand.AddRotateYOp()
for frame in range(0, 25, 4):
    t.Set(Gf.Vec3d(frame * 0.1, 1.0 + 0.02 * frame, 0), frame)
    r.Set(frame * 7.5, frame)

cup = UsdGeom.Xform.Define(stage, "/World/Props/Cup")
cup_op = cup.AddTransformOp()
offset = Gf.Matrix4d().SetTranslate(Gf.Vec3d(0.1, 0.05, 0))

for frame in range(0, 25, 4):
    hand_world = hand.ComputeLocalToWorldTransform(frame)
    parent_inv = cup.ComputeParentToWorldTransform(frame).GetInverse()
    cup_op.Set(offset * hand_world * parent_inv, frame)

for frame in (0, 12, 24):
    pos = cup.ComputeLocalToWorldTransform(frame).ExtractTranslation()
    print(f"frame {frame}: cup at ({pos[0]:.3f}, {pos[1]:.3f}, {pos[2]:.3f})")
