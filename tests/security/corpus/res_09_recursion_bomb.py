# expect: limit
# attack: unbounded recursion (RecursionError or stack exhaustion).
def dive(n):
    return dive(n + 1) + 1
dive(0)
