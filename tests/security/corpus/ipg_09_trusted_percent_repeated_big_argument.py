# expect: limit
# policy: trusted
# neutralised: the %-estimate adds each text argument's length, not only widths
# attack: in-process, 200 references to one 1M-character string, each formatted in full.
big = "x" * 1000000
s = ("%s" * 200) % ((big,) * 200)
print(len(s))
