# expect: limit
# policy: trusted
# attack: in-process, Vt arrays were charged 4 items per element whatever the element type: a
#   Matrix4dArray element is 128 bytes, so 30M elements (3.8 GB) passed the guard (memory_mb = 2048).
from pxr import Vt
a = Vt.Matrix4dArray(30_000_000)
print(len(a))
