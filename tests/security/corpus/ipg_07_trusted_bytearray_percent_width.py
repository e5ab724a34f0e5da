# expect: limit
# policy: trusted
# neutralised: Allocation.mod checks bytearray formats like str and bytes
# attack: in-process, bytearray % was not checked at all.
s = bytearray(b"%300000000s") % b"x"
print(len(s))
