# expect: accept
# what: custom relationships wiring a control rig (targets to controls), forwarded through a "driver" rel.
from pxr import UsdGeom

for ctl in ("Root", "Spine", "Head", "Arm_L", "Arm_R"):
    UsdGeom.Xform.Define(stage, f"/World/Rig/Controls/{ctl}_CTL")

character = UsdGeom.Xform.Define(stage, "/World/Character").GetPrim()
controls = character.CreateRelationship("rig:controls", custom=True)
for ctl in stage.GetPrimAtPath("/World/Rig/Controls").GetChildren():
    controls.AddTarget(ctl.GetPath())

driver = UsdGeom.Xform.Define(stage, "/World/Rig/Driver").GetPrim()
fwd = driver.CreateRelationship("drives")
fwd.AddTarget(controls.GetPath())

print("direct targets:", [t.name for t in controls.GetTargets()])
print("forwarded:", [t.name for t in fwd.GetForwardedTargets()])
controls.RemoveTarget("/World/Rig/Controls/Arm_R_CTL")
print("after removal:", len(controls.GetTargets()))
print("relationships on character:", [r.GetName() for r in character.GetRelationships()])
