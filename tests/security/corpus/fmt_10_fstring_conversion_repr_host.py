# expect: reject-at-compile
# attack: f-string whose expression walks a dunder chain with !r conversion.
print(f"{().__class__.__base__.__subclasses__()!r}")
