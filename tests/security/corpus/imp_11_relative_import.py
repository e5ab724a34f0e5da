# expect: reject-at-compile
# attack: relative import to reach the sandbox package's own modules.
from . import runtime
from .. import policy
print("KGESC" + "APE", runtime, policy)
