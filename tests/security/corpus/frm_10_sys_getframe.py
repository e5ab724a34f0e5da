# expect: reject-at-compile
# attack: sys._getframe(1) returns the caller's frame.
import sys
f = sys._getframe(1)
print("KGESC" + "APE", f.f_locals)
