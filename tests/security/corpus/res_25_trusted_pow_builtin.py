# expect: limit
# policy: trusted
# attack: in-process, the pow() builtin instead of the guarded ** operator: a 10**8-digit integer.
x = pow(10, 10 ** 8)
