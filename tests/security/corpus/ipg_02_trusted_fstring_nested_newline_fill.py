# expect: limit
# policy: trusted
# neutralised: f-string specs go through the same parser after the nested field is substituted
# attack: in-process, the spec comes from a nested replacement field, with a newline fill and centring.
spec = "\n^" + str(3 * 10 ** 8)
s = f"{'x':{spec}}"
print(len(s))
