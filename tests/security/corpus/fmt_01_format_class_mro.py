# expect: reject-at-runtime
# attack: str.format attribute traversal: '{0.__class__.__mro__}' never passes the compiler's underscore check.
print("KGESC" + "APE", "{0.__class__.__mro__}".format(stage))
