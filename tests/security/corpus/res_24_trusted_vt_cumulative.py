# expect: limit
# policy: trusted
# attack: in-process, twelve 240 MB Vt arrays, each under the per-constructor item cap, add up to
#   2.9 GB inside the host unless the allocation budget is cumulative.
from pxr import Vt
keep = []
for i in range(12):
    keep.append(Vt.IntArray(60_000_000))
print(len(keep))
