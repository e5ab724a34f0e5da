# expect: reject-at-runtime
# attack: read host data out of an exception message: make USD try to parse a file outside the roots
#   so the parse error quotes its content (the canary secret), then print it.
from pxr import Sdf
try:
    Sdf.Layer.FindOrOpen("/tmp/kitgate-corpus-canary/secret.txt")
except Exception as exc:
    print(exc.args)
    raise
