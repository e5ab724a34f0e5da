# expect: reject-at-compile
# attack: the classic walk: ().__class__.__mro__[1].__subclasses__() to find os._wrap_close.
for cls in ().__class__.__mro__[1].__subclasses__():
    if cls.__name__ == "_wrap_close":
        cls.__init__.__globals__["system"]("touch /tmp/kitgate-corpus-canary/ESCAPED-mro_01")
