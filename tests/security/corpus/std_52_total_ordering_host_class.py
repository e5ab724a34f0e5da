# expect: reject-at-runtime
# policy: scene-edit
# attack: functools.total_ordering sets comparison methods on the class it is given: a host class.
import functools, string
functools.total_ordering(string.Template)
print("KGESC" + "APE")
