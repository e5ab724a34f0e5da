# expect: accept
# neutralised: __repr__/__str__ are allowed on script classes; the result is converted to a {"type": ...}
#   placeholder inside the job, so the host never calls them (nothing is printed).
# attack: __str__/__repr__ run when the host logs or prints the value.
class Loud:
    def __repr__(self):
        return "KGESC" + "APE"
    def __str__(self):
        return "KGESC" + "APE"
result = Loud()
