# expect: reject-at-runtime
# note: issue 13 made the import/builtin/dunder legal, so the guard now refuses this at run time.
# attack: string.Formatter subclass overriding get_field to resolve attributes freely.
import string
class F(string.Formatter):
    pass
print("KGESC" + "APE", F().format("{0.__class__}", stage))
