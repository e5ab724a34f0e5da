# expect: limit
# attack: grow a list of 10 MB strings until memory runs out.
hoard = []
while True:
    hoard.append("x" * 10_000_000)
