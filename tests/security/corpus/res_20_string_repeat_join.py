# expect: limit
# attack: str.join of a repeated 1 MB chunk, 10**5 times (100 GB).
chunk = "y" * 1_000_000
s = chunk.join(["a"] * 100_000)
