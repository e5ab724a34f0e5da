# expect: limit
# policy: trusted
# neutralised: the width of a `=`-aligned numeric spec with a newline fill is parsed
# attack: in-process, format_map with a newline fill, `=` alignment and grouping.
s = "{n:\n=100000000,}".format_map({"n": 12345})
print(len(s))
