# expect: accept
# what: NVIDIA-snippet style: get children, all descendants, and prims of a type under a root.
from typing import List, Type

from pxr import Usd, UsdGeom


def get_child_prims(prim: Usd.Prim) -> List[Usd.Prim]:
    return prim.GetChildren()


def find_prims_by_type(stage: Usd.Stage, prim_type: Type[Usd.Typed]) -> List[Usd.Prim]:
    found_prims = [x for x in stage.Traverse() if x.IsA(prim_type)]
    return found_prims


#############
# Full Usage
#############

UsdGeom.Xform.Define(stage, "/World/Group")
UsdGeom.Cube.Define(stage, "/World/Group/Cube")
UsdGeom.Mesh.Define(stage, "/World/Group/Mesh")
UsdGeom.Sphere.Define(stage, "/World/Group/Nested/Sphere")

children = get_child_prims(stage.GetPrimAtPath("/World/Group"))
print("children:", [c.GetName() for c in children])
print("descendants:", [str(p.GetPath()) for p in Usd.PrimRange(stage.GetPrimAtPath("/World/Group"))][1:])
meshes = find_prims_by_type(stage, UsdGeom.Mesh)
print("meshes:", [str(p.GetPath()) for p in meshes])
print("gprims:", len(find_prims_by_type(stage, UsdGeom.Gprim)))
