# expect: limit
# attack: bytes(10**10) zero-fills 10 GB.
b = bytes(10 ** 10)
