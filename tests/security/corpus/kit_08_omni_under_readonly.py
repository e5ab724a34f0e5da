# expect: reject-at-compile
# policy: readonly
# attack: same Kit command import under the readonly policy.
from omni.kit import commands
commands.execute("CreatePrim", prim_type="Xform")
