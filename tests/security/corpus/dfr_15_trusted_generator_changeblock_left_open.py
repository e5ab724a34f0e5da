# expect: accept
# policy: trusted
# neutralised: the runtime closes every generator the job started when the job ends, so the
#   `with Sdf.ChangeBlock()` exits then; later jobs in the same runner (and the final probe) define prims.
# attack: in-process, a generator suspended inside `with Sdf.ChangeBlock():` and kept alive by a reference
#   cycle leaves the block open on the host after a successful job: every later USD edit in the host
#   (Kit's UI, the next job) fails or goes unnotified until the host's garbage collector runs.
from pxr import Sdf
def hold(box):
    with Sdf.ChangeBlock():
        yield 1
box = []
gen = hold(box)
box.append(gen)
next(gen)
