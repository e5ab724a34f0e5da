# expect: limit
# policy: trusted
# attack: F11 variant, in-process: slice assignment from a map over the container itself has no len() to
#   check before the C call; every round doubles the bytearray.
b = bytearray(100_000_000)
for i in range(40):
    b[len(b):] = map(abs, b)
