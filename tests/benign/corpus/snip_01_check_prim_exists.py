# expect: accept
# what: NVIDIA-snippet style: check whether a prim exists, with a typed helper and a "Full Usage" block.
from pxr import Usd, UsdGeom


def check_prim_exists(prim: Usd.Prim) -> bool:
    """Return True if the prim handle is valid (it exists on the stage)."""
    if prim.IsValid():
        return True
    return False


#############
# Full Usage
#############

cube: UsdGeom.Cube = UsdGeom.Cube.Define(stage, "/World/Cube")
valid_prim: Usd.Prim = cube.GetPrim()
invalid_prim: Usd.Prim = stage.GetPrimAtPath("/World/Cube/Nope")

print(check_prim_exists(valid_prim))
print(check_prim_exists(invalid_prim))
assert check_prim_exists(valid_prim)
assert not check_prim_exists(invalid_prim)
