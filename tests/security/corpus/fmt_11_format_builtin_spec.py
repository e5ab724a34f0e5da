# expect: reject-at-runtime
# attack: format() with a user-controlled spec on a str subclass whose format traversal is attempted via Formatter in vformat.
# note: since issue 13 `__class__` is readable (it yields type()'s read-only view); walking on to __mro__ is not.
tmpl = "{x.__class__.__mro__}"
print("KGESC" + "APE", tmpl.format(x=stage.GetPseudoRoot()))
