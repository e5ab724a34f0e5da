# expect: limit
# attack: a huge result value the host would have to serialise.
result = ["x" * 1000 for _ in range(200000)]
