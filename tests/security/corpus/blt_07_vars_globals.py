# expect: reject-at-compile
# attack: vars()/globals() expose the guard hooks the compiler injected.
g = globals()
v = vars()
print("KGESC" + "APE", sorted(g), sorted(v))
g["_getattr_"] = lambda o, n: object.__getattribute__(o, n)
