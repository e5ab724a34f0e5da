# expect: reject-at-runtime
# policy: trusted
# neutralised: every Sdf.Path a call returns is bounded at creation (nested target paths count)
# attack: in-process, AppendTarget builds a 300,000-level nested target path without parsing text;
#   reading `.pathString` renders it recursively and overflows the host's stack.
from pxr import Sdf
p = Sdf.Path("/B")
for i in range(300000):
    p = Sdf.Path("/A.r").AppendTarget(p)
print(len(p.pathString))
