# expect: reject-at-runtime
# policy: trusted
# neutralised: ReplaceTargetPath's result is bounded like every other path-making call
# attack: in-process, the path nests itself one level per ReplaceTargetPath call, then str() renders it.
from pxr import Sdf
p = Sdf.Path("/A.r[/B]")
for i in range(300000):
    p = Sdf.Path("/A.r[/B]").ReplaceTargetPath(p)
print(len(str(p)))
