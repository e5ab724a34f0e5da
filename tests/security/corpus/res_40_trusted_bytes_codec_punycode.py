# expect: reject-at-runtime
# policy: trusted
# attack: F8 bypass, in-process: the codec allow-list guarded str.encode/bytes.decode only;
#   bytes(s, "punycode") runs the same pure-Python stdlib codec (~45 s for 60,000 characters, with no
#   deadline check inside it).
s = "".join([chr(0xE9 + (i % 500)) for i in range(60000)])
b = bytes(s, "punycode")
print(len(b))
