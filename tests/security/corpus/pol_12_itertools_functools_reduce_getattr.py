# expect: reject-at-runtime
# note: issue 13 made the import/builtin/dunder legal, so the guard now refuses this at run time.
# attack: functools.reduce(getattr, ...) resolves a dunder chain without attribute syntax.
import functools
chain = functools.reduce(getattr, ["__class__", "__base__"], ())
print("KGESC" + "APE", chain)
