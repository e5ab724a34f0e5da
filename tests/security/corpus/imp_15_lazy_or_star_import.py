# expect: reject-at-compile
# attack: star-import everything from pxr.Sdf (private helpers included).
from pxr.Sdf import *
print("KGESC" + "APE", dir())
