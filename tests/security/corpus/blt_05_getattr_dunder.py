# expect: reject-at-compile
# attack: getattr with a string dunder to sidestep the compile-time underscore check.
cls = getattr((), "__cl" + "ass__")
subs = getattr(getattr(cls, "__ba" + "se__"), "__subcl" + "asses__")()
print("KGESC" + "APE", subs)
