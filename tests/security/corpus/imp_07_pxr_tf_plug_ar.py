# expect: reject-at-compile
# attack: import the native plumbing modules Tf, Plug and Ar from pxr.
from pxr import Tf, Plug, Ar
print("KGESC" + "APE", Tf, Plug, Ar)
print(Ar.GetResolver().Resolve("/tmp/kitgate-corpus-canary/secret.txt"))
