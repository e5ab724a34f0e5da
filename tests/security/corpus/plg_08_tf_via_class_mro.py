# expect: reject-at-runtime
# attack: reach the Tf.Notice class without importing Tf: Usd.Notice.ObjectsChanged.mro(), then Tf.Notice.Register.
from pxr import Usd
tf_notice = Usd.Notice.ObjectsChanged.mro()[2]
print("KGESC" + "APE", tf_notice)
