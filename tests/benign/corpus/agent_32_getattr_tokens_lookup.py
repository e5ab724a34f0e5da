# expect: accept
# what: map user-facing strings to schema tokens with getattr on UsdGeom.Tokens, with a fallback and validation.
from pxr import UsdGeom

requests = {"Body": "catmullClark", "Wheels": "none", "Decal": "loop", "Glass": "bilinear", "Trim": "smooth"}
for name in requests:
    UsdGeom.Mesh.Define(stage, f"/World/Car/{name}")

for name, scheme in requests.items():
    token = getattr(UsdGeom.Tokens, scheme, None)
    mesh = UsdGeom.Mesh(stage.GetPrimAtPath(f"/World/Car/{name}"))
    allowed = mesh.GetSubdivisionSchemeAttr().GetMetadata("allowedTokens")
    if token is None or token not in allowed:
        print(f"{name}: unknown scheme {scheme!r}, keeping default {mesh.GetSubdivisionSchemeAttr().Get()}")
        continue
    mesh.CreateSubdivisionSchemeAttr(token)
    print(f"{name}: {token}")
