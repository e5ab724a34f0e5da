# expect: limit
# policy: trusted
# neutralised: round(int, -k) computes 10**k; bounds.check_round caps k like an integer power
# attack: in-process, round() with a huge negative ndigits: a 300M-bit power of ten in one call.
print(round(12345, -(10 ** 8)))
