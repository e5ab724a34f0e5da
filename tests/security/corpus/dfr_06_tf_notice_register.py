# expect: reject-at-compile
# attack: Tf.Notice.Register: a callback that fires on every later stage change, outside every limit.
from pxr import Tf, Usd
def spy(notice, sender):
    print("KGESC" + "APE", notice.GetChangedInfoOnlyPaths())
listener = Tf.Notice.RegisterGlobally(Usd.Notice.ObjectsChanged, spy)
