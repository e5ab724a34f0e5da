# expect: reject-at-compile
# attack: replace __class__ of a script object to turn it into a host type.
class A:
    pass
a = A()
a.__class__ = type(stage)
