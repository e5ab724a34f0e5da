# expect: limit
# policy: trusted
# neutralised: the budget uses |e|; a negative exponent is an inverse followed by the same powering
# attack: in-process, a negative exponent skipped the `b > 0` test entirely.
x = pow(7, -(10 ** 100000), 2 ** 20000 + 1)
print(x % 10)
