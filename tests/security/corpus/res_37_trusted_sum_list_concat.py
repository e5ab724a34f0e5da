# expect: limit
# policy: trusted
# attack: in-process, sum() with a list start concatenates in C: 1,000 references to one 1M-item list
#   become a 1,000,000,000-item list (8 GB) in one call, although `[l] * 1000` has only 1,000 items.
l = [0] * 10 ** 6
big = sum([l] * 1000, [])
print(len(big))
