# expect: reject-at-compile
# attack: start the walk from an allowed pxr type (Gf.Vec3f) instead of a literal.
from pxr import Gf
base = Gf.Vec3f.__mro__[-1]
print("KGESC" + "APE", base.__subclasses__())
