# expect: accept
# what: articulation root and an angular drive on a joint.
from pxr import UsdGeom, UsdPhysics

root = UsdGeom.Xform.Define(stage, "/World/Robot")
UsdPhysics.ArticulationRootAPI.Apply(root.GetPrim())
joint = UsdPhysics.RevoluteJoint.Define(stage, "/World/Robot/Elbow")
joint.CreateAxisAttr("Z")
drive = UsdPhysics.DriveAPI.Apply(joint.GetPrim(), "angular")
drive.CreateTypeAttr("force")
drive.CreateStiffnessAttr(1000.0)
drive.CreateDampingAttr(50.0)
drive.CreateTargetPositionAttr(45.0)
print(joint.GetPrim().GetAppliedSchemas())
