# expect: limit
# attack: Vt.Vec3fArray(400000000) asks USD for ~4.8 GB natively.
from pxr import Vt
arr = Vt.Vec3fArray(400000000)
print(len(arr))
