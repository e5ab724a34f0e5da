# expect: reject-at-runtime
# note: issue 13 made the import/builtin/dunder legal, so the guard now refuses this at run time.
# attack: Tf.Notice.Register: a callback that fires on every later stage change, outside every limit.
from pxr import Tf, Usd
def spy(notice, sender):
    print("KGESC" + "APE", notice.GetChangedInfoOnlyPaths())
listener = Tf.Notice.RegisterGlobally(Usd.Notice.ObjectsChanged, spy)
