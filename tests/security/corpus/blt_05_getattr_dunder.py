# expect: reject-at-runtime
# note: issue 13 made the import/builtin/dunder legal, so the guard now refuses this at run time.
# attack: getattr with a string dunder to sidestep the compile-time underscore check.
cls = getattr((), "__cl" + "ass__")
subs = getattr(getattr(cls, "__ba" + "se__"), "__subcl" + "asses__")()
print("KGESC" + "APE", subs)
