# expect: reject-at-runtime
# attack: write to a schema Tokens object shared by the host.
from pxr import UsdGeom
UsdGeom.Tokens.xformOpOrder = "pwned"
