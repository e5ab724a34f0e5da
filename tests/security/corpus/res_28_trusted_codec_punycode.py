# expect: reject-at-runtime
# policy: trusted
# attack: in-process, str.encode("punycode") runs a pure-Python stdlib codec with super-linear cost:
#   one call on 60,000 non-ASCII characters runs ~45 s with no deadline check inside it (policy
#   timeout 10 s). Any codec name reaches stdlib code the compiler never instrumented.
s = "".join([chr(0xE9 + (i % 500)) for i in range(60000)])
b = s.encode("punycode")
print(len(b))
