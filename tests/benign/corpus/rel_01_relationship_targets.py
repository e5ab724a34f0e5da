# expect: accept
# what: custom relationships with targets, add and remove.
from pxr import UsdGeom

UsdGeom.Xform.Define(stage, "/World/Rig/Ctrl")
UsdGeom.Xform.Define(stage, "/World/Rig/JointA")
UsdGeom.Xform.Define(stage, "/World/Rig/JointB")
ctrl = stage.GetPrimAtPath("/World/Rig/Ctrl")
rel = ctrl.CreateRelationship("drives")
rel.AddTarget("/World/Rig/JointA")
rel.AddTarget("/World/Rig/JointB")
rel.RemoveTarget("/World/Rig/JointA")
print(rel.GetTargets())
