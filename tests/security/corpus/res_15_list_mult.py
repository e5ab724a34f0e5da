# expect: limit
# attack: [0] * 10**10: a single huge list allocation.
big = [0] * 10 ** 10
