# expect: reject-at-compile
# attack: functools.reduce(getattr, ...) resolves a dunder chain without attribute syntax.
import functools
chain = functools.reduce(getattr, ["__class__", "__base__"], ())
print("KGESC" + "APE", chain)
