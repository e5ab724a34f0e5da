# expect: reject-at-compile
# attack: dict subclass with __missing__/__getitem__ to intercept the guard's lookups.
class D(dict):
    def __getitem__(self, key):
        print("KGESC" + "APE", key)
        return 1
result = D()
