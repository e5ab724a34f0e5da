# expect: reject-at-compile
# attack: input() blocks the worker on its stdin.
line = input("password? ")
print(line)
