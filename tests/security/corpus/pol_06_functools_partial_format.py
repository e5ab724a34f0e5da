# expect: reject-at-compile
# attack: functools.partial around str.format so the guarded call site never names format.
import functools
render = functools.partial(str.format, "{0.__class__.__base__}")
print("KGESC" + "APE", render(stage))
