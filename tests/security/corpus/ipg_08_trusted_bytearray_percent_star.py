# expect: limit
# policy: trusted
# neutralised: a `*` width is read from the argument tuple and bounded by value
# attack: in-process, bytearray formatting with the width passed as an argument.
s = bytearray(b"%-*s|") % (300000000, b"x")
print(len(s))
