# expect: limit
# attack: max() over map(abs, range(10**15)): a C-level iterator chain that never returns to the
#   interpreter (the brief's max(iter(int, 1)) variant is refused by guarded_iter, see findings).
m = max(map(abs, range(10 ** 15)))
