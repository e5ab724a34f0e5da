# expect: limit
# attack: 'x'.ljust(10**10): a width argument that allocates 10 GB.
s = "x".ljust(10 ** 10)
