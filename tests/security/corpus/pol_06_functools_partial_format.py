# expect: reject-at-runtime
# note: issue 13 made the import/builtin/dunder legal, so the guard now refuses this at run time.
# attack: functools.partial around str.format so the guarded call site never names format.
import functools
render = functools.partial(str.format, "{0.__class__.__base__}")
print("KGESC" + "APE", render(stage))
