# expect: reject-at-runtime
# note: issue 13 made the import/builtin/dunder legal, so the guard now refuses this at run time.
# attack: dict subclass with __missing__/__getitem__ to intercept the guard's lookups.
class D(dict):
    def __getitem__(self, key):
        print("KGESC" + "APE", key)
        return 1
result = D()
