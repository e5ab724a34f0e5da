# expect: limit
# policy: trusted
# attack: F11 variant, in-process: `b.extend(map(abs, b))` iterates the bytearray it is extending, so the
#   single C call never ends (it stops only when the host runs out of memory). A len() check on the
#   argument cannot see it: map() has no length.
b = bytearray(b"ab")
b.extend(map(abs, b))
print(len(b))
b = bytearray(100_000_000)
b.extend(map(abs, b))
