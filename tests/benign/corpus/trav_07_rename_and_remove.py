# expect: accept
# what: remove prims matching a name pattern and deactivate others.
from pxr import UsdGeom

for name in ("temp_a", "temp_b", "keep_me", "old_c"):
    UsdGeom.Xform.Define(stage, f"/World/Cleanup/{name}")
parent = stage.GetPrimAtPath("/World/Cleanup")
for child in list(parent.GetChildren()):
    if child.GetName().startswith("temp_"):
        stage.RemovePrim(child.GetPath())
    elif child.GetName().startswith("old_"):
        child.SetActive(False)
print(sorted(c.GetName() for c in parent.GetAllChildren()))
