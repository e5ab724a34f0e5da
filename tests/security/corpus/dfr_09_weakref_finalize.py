# expect: reject-at-compile
# attack: weakref.finalize schedules a callback at collection time.
import weakref
class Box:
    pass
b = Box()
weakref.finalize(b, print, "KGESC" + "APE")
