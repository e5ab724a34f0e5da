# expect: accept
# what: NVIDIA-snippet style: add a reference and a payload to prims, with typed helpers returning the prim.
from pxr import Sdf, Usd, UsdGeom


def add_ext_reference(prim: Usd.Prim, ref_asset_path: str, ref_target_path: Sdf.Path = None) -> None:
    references: Usd.References = prim.GetReferences()
    if ref_target_path is None:
        references.AddReference(assetPath=ref_asset_path)
    else:
        references.AddReference(assetPath=ref_asset_path, primPath=ref_target_path)


def add_payload(prim: Usd.Prim, payload_asset_path: str, payload_target_path: Sdf.Path) -> None:
    payloads: Usd.Payloads = prim.GetPayloads()
    payloads.AddPayload(assetPath=payload_asset_path, primPath=payload_target_path)


#############
# Full Usage
#############

ref_prim = UsdGeom.Xform.Define(stage, "/World/ref_prim").GetPrim()
add_ext_reference(ref_prim, "/tmp/kitgate-benign-assets/chair.usda")
seat_only = UsdGeom.Xform.Define(stage, "/World/seat_only").GetPrim()
add_ext_reference(seat_only, "/tmp/kitgate-benign-assets/chair.usda", Sdf.Path("/Chair/Seat"))
payload_prim = UsdGeom.Xform.Define(stage, "/World/payload_prim").GetPrim()
add_payload(payload_prim, "/tmp/kitgate-benign-assets/rock_payload.usda", Sdf.Path("/Rock"))

print(ref_prim.HasAuthoredReferences(), [c.GetName() for c in ref_prim.GetChildren()])
print(seat_only.GetTypeName(), seat_only.GetAttribute("size").Get())
print(payload_prim.HasAuthoredPayloads(), [c.GetName() for c in payload_prim.GetChildren()])
