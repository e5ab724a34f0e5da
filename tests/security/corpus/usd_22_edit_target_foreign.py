# expect: reject-at-runtime
# attack: switch the edit target to a foreign layer so edits land in another tenant's file.
from pxr import Sdf, Usd
other = Sdf.Layer.FindOrOpen("/tmp/kitgate-corpus-canary/tenant-b.usda")
stage.SetEditTarget(Usd.EditTarget(other))
stage.DefinePrim("/Pwned", "Xform")
other.Save()
