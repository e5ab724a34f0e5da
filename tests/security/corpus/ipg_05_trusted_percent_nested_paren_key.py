# expect: limit
# policy: trusted
# neutralised: bounds.percent_fields follows balanced parentheses in %(key) as CPython does
# attack: in-process, a mapping key with nested parentheses ended the regex's key early, so it never
#   saw the 300M width behind it.
s = "%(a(b)c)300000000s" % {"a(b)c": "x"}
print(len(s))
