# expect: reject-at-runtime
# attack: F8 bypass: str(b, "idna") / str(b, encoding="punycode") decode with a pure-Python codec,
#   reached through the str constructor instead of bytes.decode.
b = "".join([chr(0x61 + (i % 26)) for i in range(60000)]).encode("ascii")
print(len(str(b, encoding="punycode")))
