# expect: limit
# attack: a plain infinite loop.
i = 0
while True:
    i += 1
