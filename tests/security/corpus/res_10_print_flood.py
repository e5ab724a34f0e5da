# expect: limit
# attack: print flood: unbounded output through the collector.
line = "spam " * 200
while True:
    print(line)
