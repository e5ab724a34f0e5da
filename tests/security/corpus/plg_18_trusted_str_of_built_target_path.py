# expect: reject-at-runtime
# policy: trusted
# attack: in-process, no string operation builds the bomb: AppendTarget makes a 50,000-level nested
#   target path object without parsing anything, str() renders it, and handing that text back to any
#   pxr call parses it recursively.
from pxr import Sdf
p = Sdf.Path("/B")
for i in range(50000):
    p = Sdf.Path("/A.r").AppendTarget(p)
text = str(p)
stage.GetRootLayer().GetPrimAtPath(text)
