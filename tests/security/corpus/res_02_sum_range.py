# expect: limit
# attack: sum(range(10**15)) spins in C.
total = sum(range(10 ** 15))
