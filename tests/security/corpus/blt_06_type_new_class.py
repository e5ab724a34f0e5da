# expect: reject-at-compile
# attack: type() with three arguments builds a class with arbitrary dunders.
Evil = type("Evil", (), {"__del__": lambda self: print("KGESC" + "APE")})
obj = Evil()
