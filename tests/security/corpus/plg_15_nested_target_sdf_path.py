# expect: reject-at-runtime
# attack: Sdf.Path(text) with 50,000 nested target paths overflows the path parser's stack (a crash of
#   the isolated child, the host in-process); the constructor refuses absurd nesting first.
from pxr import Sdf
s = "/A.r[" * 50000 + "/B" + "]" * 50000
p = Sdf.Path(s)
