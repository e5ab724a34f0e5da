# expect: limit
# attack: 'A' * 10**10 allocates 10 GB in one call.
s = "A" * 10 ** 10
