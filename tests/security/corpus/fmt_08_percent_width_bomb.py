# expect: limit
# attack: `%` formatting with a `*` width of 2**31-1 characters.
s = "%*d" % (2**31 - 1, 7)
print(len(s))
