# expect: reject-at-compile
# attack: string.Formatter subclass overriding get_field to resolve attributes freely.
import string
class F(string.Formatter):
    pass
print("KGESC" + "APE", F().format("{0.__class__}", stage))
