# expect: reject-at-compile
# attack: __str__/__repr__ run when the host logs or prints the value.
class Loud:
    def __repr__(self):
        return "KGESC" + "APE"
    def __str__(self):
        return "KGESC" + "APE"
result = Loud()
