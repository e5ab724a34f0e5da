# expect: limit
# attack: many medium Vt arrays, each under any per-call guard, adding up to gigabytes.
from pxr import Vt
keep = []
while True:
    keep.append(Vt.FloatArray(10_000_000))
