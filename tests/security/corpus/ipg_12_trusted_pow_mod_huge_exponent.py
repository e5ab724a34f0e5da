# expect: limit
# policy: trusted
# neutralised: pow(b, e, m) is bounded by bits(e) x bits(m)^2, the exponent is no longer free
# attack: in-process, only the modulus was capped: a 660k-bit exponent with a 100k-bit modulus.
x = pow(3, 10 ** 200000, 10 ** 30000 + 7)
print(x % 10)
