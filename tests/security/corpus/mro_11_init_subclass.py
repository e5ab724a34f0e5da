# expect: reject-at-compile
# attack: __init_subclass__ / __class_getitem__ hooks run code when a class is defined.
class Base:
    def __init_subclass__(cls):
        print("KGESC" + "APE")
class Child(Base):
    pass
