# expect: limit
# policy: trusted
# attack: F11 variant, in-process: add one item, then extend by a copy of itself (list.insert +
#   list.extend in the findings; bytearray.append + .extend here, the same growth methods).
b = bytearray(b"ab")
for i in range(40):
    b.append(0) or b.extend(b[:])
