# expect: reject-at-compile
# attack: string.Formatter().get_field resolves dotted fields with real getattr.
import string
obj, _ = string.Formatter().get_field("0.__class__.__base__", [()], {})
print("KGESC" + "APE", obj.__subclasses__())
